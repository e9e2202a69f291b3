"""Members who were another program's to serve: the profile's barred enrollments (`--enrollment`).

SPEC section 10: the compliance checks read the enrollment file too. An
episode of an enrollment the profile bars (`[eligibility.barred_enrollments]`:
Idaho's TCC, Arizona's FES and ALTCS, Pennsylvania's fee-for-service MA_FFS)
means that on those days the member was not this payer's case-management
member: the agency could not bill for them (CM503), so the payer's contacts
and follow-ups are not owed either. Months spent wholly under such an episode
are not judged for the monthly contact (CM810), like months wholly in a stay;
a discharge on such a day is not judged for the follow-up (CM811), nor its
stay for a contact during it (CM812).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cmclaims.side.enrollment import Enrollment
from cmclaims.tables import Profile


@dataclass
class Elsewhere:
    """The episodes of barred enrollments: when a member was not this payer's to serve."""

    enrollment: Enrollment
    barred: tuple[str, ...]

    @classmethod
    def of(cls, enrollment: Enrollment | None, profile: Profile) -> Elsewhere | None:
        """None when no enrollment file was given."""
        if enrollment is None:
            return None
        return cls(enrollment, tuple(profile.eligibility.barred_enrollments))

    @property
    def note(self) -> str:
        """What the enrollment file did to a requirement, for the report."""
        if not self.barred:
            return "--enrollment: the profile bars no enrollment, so every period is judged"
        return f"not judged while the member was in {', '.join(self.barred)} (--enrollment)"

    def spans(self) -> pd.DataFrame:
        """The barred episodes in the columns of a stays frame (member_id, admit_day, discharge_day)."""
        frame = self.enrollment.frame
        barred = frame[frame["enrollment"].isin(self.barred)]
        return pd.DataFrame({"member_id": barred["member_id"].to_numpy(dtype=object),
                             "admit_day": barred["start_day"].to_numpy(),
                             "discharge_day": barred["end_day"].to_numpy()})

    def covers(self, member_id: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Per (member, day): whether a barred episode covers it."""
        if not self.barred or len(member_id) == 0:
            return np.zeros(len(member_id), dtype=bool)
        return self.enrollment.covering(member_id, day, self.barred) >= 0
