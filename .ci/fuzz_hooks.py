"""Schemathesis hooks for .ci/fuzz.sh.

The fuzzer authenticates with one administrator API token; fuzzing
`DELETE /api/v1/tokens/{id}` would sooner or later revoke that very token
and turn every later request into a 401. This hook points such a call at a
token id that does not exist instead (the route is still fuzzed with every
other id). It changes no check.
"""

import os

import schemathesis

OWN_TOKEN = os.environ.get("FUZZ_TOKEN_ID", "")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if (
        case.method.upper() == "DELETE"
        and case.operation.path == "/api/v1/tokens/{id}"
        and str((case.path_parameters or {}).get("id")) == OWN_TOKEN
    ):
        case.path_parameters["id"] = 4_000_000_000
    return None


SCRATCH = os.environ.get("FUZZ_SCRATCH", "")


@schemathesis.hook("before_call")
def backups_stay_in_scratch(ctx, case, **kwargs):
    """Backups the fuzzer asks for are written below the scratch folder:
    an absolute path such as `/` is re-rooted there (the server runs as root
    in CI). Relative paths already resolve against the server's working
    directory, the scratch folder."""
    if (
        SCRATCH
        and case.operation.path.startswith("/api/v1/admin/backups")
        and isinstance(case.body, dict)
    ):
        for key in ("path", "to", "target"):
            v = case.body.get(key)
            if isinstance(v, str) and v.startswith("/"):
                case.body[key] = SCRATCH + v
    return None
