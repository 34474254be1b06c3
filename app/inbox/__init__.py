"""Task inbox 待办任务: my tasks, my groups' unclaimed tasks, claim/release/reassign, task page."""
