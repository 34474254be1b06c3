"""Forms of the card lifecycle family 卡片生命周期: the loss report's and the region move's task
forms, and the forms of the card pages (voice service line, formal loss, lift, PIN, bank
function, move, activation)."""
from forms.lifecycle import counter, tasks  # noqa: F401  (registers the task forms)
