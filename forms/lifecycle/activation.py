"""统一启用 form (a page form, not a BPMN task's): the date of the announcement 启用公告 that
tells the insured when the round's cards are switched on and the old medical cards stop
(seed 000 §4.2.2). The service (``app.procedures.lifecycle.activation.check_announcement``)
checks it against the batch as well (not before the batch was created)."""
from __future__ import annotations

from forms.base import TaskForm
from forms.fields import DateField
from forms.i18n import T
from forms.validators import NotAfterToday, Required


class ActivationForm(TaskForm):
    """启动统一启用: the manager gives the announcement's date; the page adds the CSRF token."""

    title = T("统一启用", "Activate the round")

    announced_on = DateField(
        T("启用公告日期", "Date of the announcement"), [Required(), NotAfterToday()],
        description=T("人力资源和社会保障局发布统一启用公告的日期（格式 YYYY-MM-DD，不能晚于今天）。",
                      "The day the bureau published the activation announcement (YYYY-MM-DD, "
                      "not after today)."))
