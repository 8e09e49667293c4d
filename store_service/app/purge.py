"""What the purge (salesync_common/purge.py) deletes from the store schema: the throttles' rows past
their window (they no longer count) and password proofs past theirs (they no longer prove). Stores stay."""
from __future__ import annotations

import datetime

from sqlalchemy import func

from salesync_common.purge import Purge
from salesync_common.settings import Settings

from .login_throttle import Limits
from .models import LoginFailure, PasswordCheckFailure, PasswordProof, SignUpRecord


def purges(settings: Settings) -> list[Purge]:
    limits = Limits.from_settings(settings)  # the windows the throttles count within
    proof_window = datetime.timedelta(seconds=settings.password_change_window_seconds)
    return [
        Purge(LoginFailure.__table__, LoginFailure.failed_at <= func.now() - limits.window),
        Purge(PasswordCheckFailure.__table__, PasswordCheckFailure.failed_at <= func.now() - limits.window),
        Purge(SignUpRecord.__table__, SignUpRecord.signed_up_at <= func.now() - limits.signup_window),
        Purge(PasswordProof.__table__, PasswordProof.proved_at <= func.now() - proof_window),
    ]
