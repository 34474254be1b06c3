"""OpenAPI 3.1 description of the JSON API (served at /api/v1/openapi.json)."""

_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_INST = {"description": "A case", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Instance"}}}}


def _op(summary, responses, body=None, params=None):
    op = {"summary": summary, "responses": {**responses, "401": _ERR}}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    return op


_ID = lambda name: {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}  # noqa: E731

SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "社会保障卡制发平台 API", "version": "1.0",
             "description": "Token authentication: `Authorization: Bearer <token>` (create tokens on the "
                            "profile page or with `flask --app app create-token USER`). Same permissions "
                            "and the same form validation as the pages."},
    "servers": [{"url": "/"}],
    "components": {
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "message_zh": {"type": "string"},
                "message_en": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}}},
            "Task": {"type": "object", "properties": {
                "id": {"type": "integer"}, "instance_id": {"type": "integer"}, "name": {"type": "string"},
                "title": {"type": "string"}, "form_key": {"type": "string"}, "group": {"type": "string"},
                "state": {"type": "string"}, "assignee_id": {"type": ["integer", "null"]},
                "due_at": {"type": ["string", "null"]}, "working_days_left": {"type": ["integer", "null"]}}},
            "Instance": {"type": "object", "properties": {
                "id": {"type": "integer"}, "process": {"type": "string"}, "business_key": {"type": ["string", "null"]},
                "status": {"type": "string", "enum": ["running", "waiting", "error", "completed", "cancelled"]},
                "deadline": {"type": ["string", "null"]}, "working_days_left": {"type": ["integer", "null"]},
                "deadline_state": {"type": ["string", "null"]}, "deadlines": {"type": "array", "items": {"type": "object"}},
                "lock_version": {"type": "integer"},
                "open_tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
                "history": {"type": "array", "items": {"type": "object"}}}},
        },
    },
    "security": [{"token": []}],
    "paths": {
        "/api/v1/process-models": {"get": _op("Deployed procedures (latest versions)", {"200": {"description": "Models"}})},
        "/api/v1/process-instances": {"post": _op(
            "Start a procedure (start data: field names are identifiers that are no script function, "
            "builtin or keyword; JSON values at most 8 levels deep, 64 KiB in all)",
            {"201": _INST, "400": _ERR, "403": _ERR, "409": _ERR, "422": _ERR},
            body={"type": "object", "required": ["process"], "properties": {
                "process": {"type": "string"}, "data": {"type": "object"},
                "business_key": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$",
                                 "description": "unique per procedure; left out, the platform assigns it"}}})},
        "/api/v1/process-instances/{id}": {"get": _op(
            "A case: status, open tasks, deadline, history (personal data masked)",
            {"200": _INST, "403": _ERR, "404": _ERR}, params=[_ID("id"), {
                "name": "full", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]},
                "description": "1: unmasked personal data, administrators only; recorded in the audit trail"}])},
        "/api/v1/tasks": {"get": _op("My tasks or my groups' unclaimed tasks", {"200": {"description": "Tasks"},
                                                                          "400": _ERR}, params=[
            {"name": "scope", "in": "query", "schema": {"type": "string", "enum": ["mine", "group"]}},
            {"name": "process", "in": "query", "schema": {"type": "string"}},
            {"name": "deadline", "in": "query", "schema": {"type": "string", "enum": ["overdue", "at_risk", "on_time"]}},
            {"name": "after", "in": "query", "schema": {"type": "string"}, "description": "cursor from `next`"}])},
        "/api/v1/tasks/{id}/claim": {"post": _op("Claim a task", {"200": {"description": "Task"}, "403": _ERR,
                                                                  "404": _ERR, "409": _ERR}, params=[_ID("id")])},
        "/api/v1/tasks/{id}/complete": {"post": _op(
            "Complete a task with its form data (validated by the task's form)",
            {"200": _INST, "400": _ERR, "403": _ERR, "404": _ERR, "409": _ERR, "422": _ERR},
            body={"type": "object", "properties": {"data": {"type": "object"}, "lock_version": {"type": "integer"}}},
            params=[_ID("id")])},
        "/api/v1/process-instances/{id}/cancel": {"post": _op(
            "Cancel a case (the application ends, open card jobs are cancelled)",
            {"200": _INST, "400": _ERR, "403": _ERR, "404": _ERR, "409": _ERR},
            body={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
            params=[_ID("id")])},
        "/api/v1/incidents/{id}/retry": {"post": _op("Retry a failed step", {"200": _INST, "403": _ERR, "404": _ERR,
                                                                          "409": _ERR},
                                                     params=[_ID("id")])},
    },
}
