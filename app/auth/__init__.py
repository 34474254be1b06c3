"""Users, roles and groups 用户、角色与岗位组; a group is a BPMN lane."""
