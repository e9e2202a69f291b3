"""The side files of one run, read together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cmclaims.io.column_map import ColumnMap
from cmclaims.side.authorizations import Authorizations, read_authorizations
from cmclaims.side.common import SideFile, SideProblem

if TYPE_CHECKING:
    from cmclaims.pipeline.validate import ValidateRequest


@dataclass
class SideData:
    """Authorizations, stays and staff: None where the run was given no such file."""

    authorizations: Authorizations | None = None
    stays: object = None
    staff: object = None
    files: list[SideFile] = field(default_factory=list)

    @classmethod
    def read(cls, request: ValidateRequest, column_map: ColumnMap | None) -> SideData:
        data = cls()
        if request.authorizations is not None:
            data.authorizations = read_authorizations(request.authorizations, request.today, column_map)
            assert data.authorizations.file is not None
            data.files.append(data.authorizations.file)
        return data

    @property
    def problems(self) -> list[SideProblem]:
        return [problem for file in self.files for problem in file.problems]

    def describe(self) -> dict[str, object]:
        return {
            "files": [
                {"file": f.name, "sha256": f.source.sha256, "rows": int(f.rows.size + len(f.source.bad_rows)),
                 "rows_left_out": int((~f.usable).sum() + len(f.source.bad_rows))}
                for f in self.files
            ],
            "problems": [p.__dict__ for p in self.problems],
        }
