"""The side files of one run, read together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cmclaims.io.column_map import ColumnMap
from cmclaims.side.authorizations import Authorizations, read_authorizations
from cmclaims.side.common import SideFile, SideProblem
from cmclaims.side.enrollment import Enrollment, read_enrollment
from cmclaims.side.plans import Plans, read_plans
from cmclaims.side.staff import Staff, read_staff
from cmclaims.side.stays import Stays, read_stays
from cmclaims.tables import load_catalog

if TYPE_CHECKING:
    from cmclaims.pipeline.request import ValidateRequest


@dataclass
class SideData:
    """Authorizations, stays, staff, enrollment and plans: None where the run was given no such file."""

    authorizations: Authorizations | None = None
    stays: Stays | None = None
    staff: Staff | None = None
    enrollment: Enrollment | None = None
    plans: Plans | None = None
    files: list[SideFile] = field(default_factory=list)

    @classmethod
    def read(cls, request: ValidateRequest, column_map: ColumnMap | None) -> SideData:
        """Read every side file the request names; bad rows become problems, never errors."""
        data = cls()
        if request.authorizations is not None:
            data.authorizations = read_authorizations(request.authorizations, request.today, column_map)
            assert data.authorizations.file is not None
            data.files.append(data.authorizations.file)
        if request.stays is not None or request.staff is not None:
            catalog = load_catalog()
            if request.stays is not None:
                data.stays = read_stays(request.stays, request.today, catalog.vocabulary("setting"), column_map)
                data.files.append(data.stays.file)
            if request.staff is not None:
                qualifications = catalog.vocabulary("credential") + catalog.vocabulary("training")
                data.staff = read_staff(request.staff, request.today, qualifications, column_map)
                data.files.append(data.staff.file)
        if request.enrollment is not None:
            data.enrollment = read_enrollment(request.enrollment, request.today, column_map)
            data.files.append(data.enrollment.file)
        if request.plans is not None:
            plan_types = load_catalog().vocabulary("plan_type")
            data.plans = read_plans(request.plans, request.today, plan_types, column_map)
            data.files.append(data.plans.file)
        return data

    @property
    def problems(self) -> list[SideProblem]:
        """Every unusable row of every side file, file by file."""
        return [problem for file in self.files for problem in file.problems]

    def describe(self) -> dict[str, object]:
        """The side files for summary.json: hashes, row counts and problems (no member ids)."""
        return {
            "files": [
                {"file": f.name, "sha256": f.source.sha256, "rows": int(f.rows.size + len(f.source.bad_rows)),
                 "rows_left_out": int((~f.usable).sum() + len(f.source.bad_rows))}
                for f in self.files
            ],
            "problems": [p.__dict__ for p in self.problems],
        }
