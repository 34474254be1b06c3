"""Service operations 服务操作 of the application family, called by the BPMN service tasks of
``processes/application/`` and ``processes/shared/applicant_checks.bpmn``; one module per thing
they act on. Each runs inside the step's transaction (``ctx.session``; never commits), takes its
inputs as named parameters and returns a small JSON dict: ids, flags, masked numbers, never a
photo or a full ID number. A failure the diagram may handle raises ``ServiceError`` with a code
declared on the operation.

The table of operations, parameters, results and error codes is generated from the registry:
``flask --app app operations`` or the 服务操作 page (/processes/operations).
"""
# importing registers them
from app.procedures.application.operations import cancel  # noqa: F401
from app.procedures.application.operations import checks  # noqa: F401
from app.procedures.application.operations import intake  # noqa: F401
from app.procedures.application.operations import notify  # noqa: F401
from app.procedures.application.operations import production  # noqa: F401
