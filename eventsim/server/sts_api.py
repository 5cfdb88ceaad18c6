"""STS's ``GetCallerIdentity`` (the query protocol boto3 speaks: a form-encoded POST with
``Action=GetCallerIdentity``, answered in XML), since many apps call it first.

The caller is the role eventsim reports (the config's ``role_arn``; by default
``arn:aws:iam::<account>:role/eventsim``), in a session named ``eventsim``::

    {"Account": "123456789012", "UserId": "AROA...:eventsim",
     "Arn": "arn:aws:sts::123456789012:assumed-role/eventsim/eventsim"}

Any other STS action is refused with STS's ``InvalidAction``.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import TYPE_CHECKING, ClassVar
from xml.sax.saxutils import escape

from aiohttp import web

from ..errors import ApiError
from .protocol import error_response, json_response
from .services import Service, form_params, json_version

if TYPE_CHECKING:
    from ..simulator import Simulator

#: The session name in the assumed-role ARN, and the second half of the UserId.
SESSION = "eventsim"
_VERSION = "2011-06-15"
_NAMESPACE = f"https://sts.amazonaws.com/doc/{_VERSION}/"


class StsApi:
    service: ClassVar[Service] = Service("sts", "query", 64 * 1024)

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    def identity(self) -> dict[str, str]:
        """``GetCallerIdentity``'s answer: Account, Arn and UserId."""
        account = self._sim.config.account
        role = self._sim.config.role
        name = role.rsplit("/", 1)[-1] if ":role/" in role else "eventsim"
        # A role's unique id: AROA and 17 more characters; a fixed one per role ARN.
        digest = base64.b32encode(hashlib.sha256(role.encode()).digest()).decode()
        return {
            "UserId": f"AROA{digest[:17]}:{SESSION}",
            "Account": account,
            "Arn": f"arn:aws:sts::{account}:assumed-role/{name}/{SESSION}",
        }

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        if "X-Amz-Target" in request.headers:
            return error_response("json", error, json_version(request))
        return error_response("query", error)

    async def handle(self, request: web.Request) -> web.Response:
        target = request.headers.get("X-Amz-Target")
        try:
            if target is not None:  # the awsJson flavour, should STS ever move to it
                action = target.rpartition(".")[2]
            else:
                params = {**form_params(await request.read()), **request.query}
                action = params.get("Action", "")
            if not action:
                raise ApiError("MissingAction", "the request names no Action")
            if action != "GetCallerIdentity":
                raise ApiError(
                    "InvalidAction",
                    f"Could not find operation {action} for version {_VERSION}: eventsim "
                    "serves GetCallerIdentity only; the request was not sent to AWS",
                )
        except ApiError as exc:
            return self.error(request, exc)
        identity = self.identity()
        if target is not None:
            return json_response(identity, content_type=json_version(request))
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in identity.items())
        text = (
            f'<GetCallerIdentityResponse xmlns="{_NAMESPACE}">'
            f"<GetCallerIdentityResult>{fields}</GetCallerIdentityResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</GetCallerIdentityResponse>"
        )
        return web.Response(text=text, content_type="text/xml")
