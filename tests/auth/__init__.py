"""Sign-in sessions, sign-in throttling and the security headers (security review findings 4 and 8)."""
