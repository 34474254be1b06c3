"""Helpers of the browser walks: signing in as a demo user, and the visible text of every
Chinese page seen, scanned for codes a clerk should never read."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect


class Seen:
    def __init__(self, codes: tuple[str, ...], at_least: int):
        self.codes, self.at_least = codes, at_least
        self.pages: list[tuple[str, str]] = []

    def read(self, page: Page) -> str:
        body = page.inner_text("body")
        if page.locator("html").get_attribute("lang") == "zh-CN":
            self.pages.append((page.url, body))
        return body

    def assert_no_codes(self) -> None:
        assert len(self.pages) >= self.at_least
        found = [(url, code) for url, text in self.pages for code in self.codes
                 if re.search(rf"(?<![A-Za-z_]){re.escape(code)}(?![A-Za-z_])", text)]
        assert found == [], found


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "demo1234")
    page.click("#login")
    expect(page.locator("#nav-inbox")).to_be_visible()
