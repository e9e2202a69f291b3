"""CM0: input and schema. A line with a CM0 error is rejected before any other rule looks at it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.normalize.lines import MISSING
from cmclaims.normalize.services import BAD_MODIFIER, NO_SERVICE, UNKNOWN_CODE
from cmclaims.normalize.values import day_number
from cmclaims.rules.context import Context
from cmclaims.rules.registry import Flags, rule
from cmclaims.rules.schema_failures import failure_cases
from cmclaims.schema.encounter import VOCABULARY_COLUMNS


def _parsed(ctx: Context) -> np.ndarray:
    return ctx.column("parsed")


def _schema_failures(ctx: Context) -> pd.DataFrame:
    """pandera's failure cases for the batch, computed once and shared by CM002 and CM009."""
    return ctx.shared("schema failures",
                      lambda: failure_cases(ctx.lines, ctx.profile.catalog, np.flatnonzero(_parsed(ctx))))


@rule(
    "CM001",
    "input.unparseable_row",
    severity="error",
    stage="input",
    message="row {row} of {file} cannot be read: {problem}",
)
def unparseable_row(ctx: Context) -> Flags:
    """A row of the export that the CSV parser could not take.

    What it checks:
        Rows with a different number of values than the header has (a stray
        comma, a missing column), a double quote that never closes (reported
        once, on the row where it opens), a NUL byte, bytes that are not text
        in the file's encoding, or a value longer than 1 MiB. A quoted value
        spanning lines is one row (RFC 4180). The rest of the file is
        validated as usual.
    Why it matters:
        Nothing in such a row can be trusted to sit in its column, so nothing
        in it can be billed. It is kept, with its row number, so that no line
        of the export is silently lost.
    Example:
        A header of 24 columns followed by a row of 25 because a note contains
        an unquoted comma.
    How to fix:
        Open the file at the row number given (the header is row 0) and correct
        the row in the EHR, or quote the value that holds the comma; re-export.
    Source:
        SPEC section 3: every input line ends in the clean file or the
        exceptions file.
    """
    rows = np.flatnonzero(~_parsed(ctx))  # the parser's rejects come last, in file and row order
    files = np.array(ctx.lines.files, dtype=object)
    return Flags(
        rows,
        {
            "row": ctx.column("source_row")[rows],
            "file": files[ctx.column("file")[rows]],
            "problem": np.array(ctx.lines.bad_problems, dtype=object),
        },
    )


@rule(
    "CM002",
    "input.missing_value",
    severity="error",
    stage="input",
    message="{column} is empty; every line needs it",
)
def missing_value(ctx: Context) -> Flags:
    """A line without a value the validator cannot do without.

    What it checks:
        claim_id, member_id, member_dob, service_date, start_time, end_time,
        hcpcs and staff_id must each have a value on every line. In an export
        with a duration_minutes column, a line may give its duration instead
        of its end_time.
    Why it matters:
        Without them the line cannot be tied to a member, a date, a time or a
        code, so no limit, eligibility or staff rule can be applied, and the
        payer would deny the claim.
    Example:
        A line whose end_time is blank because the note was never closed.
    How to fix:
        Complete the encounter in the EHR (close the note, enter the time) and
        re-export; the line will be validated the next night.
    Source:
        SPEC section 2: the required columns of the encounter export.
    """
    failures = _schema_failures(ctx)
    missing = failures[failures["missing"]]
    rows = missing["line"].to_numpy()
    columns = missing["column"].to_numpy(dtype=object)
    if "duration_minutes" in ctx.lines.present:
        # end_time was not required of each line: a line needs it or its duration.
        neither = _parsed(ctx) & ~ctx.lines.text["end_time"].present & ~ctx.lines.text["duration_minutes"].present
        extra = np.flatnonzero(neither)
        named = "end_time" if "end_time" in ctx.lines.present else "duration_minutes"
        rows = np.concatenate([rows, extra])
        columns = np.concatenate([columns, np.full(extra.size, named, dtype=object)])
    return Flags(rows, {"column": columns})


_DATE_COLUMNS = (("service_date", "service_day"), ("member_dob", "dob_day"))


@rule(
    "CM003",
    "input.bad_date",
    severity="error",
    stage="input",
    message="{column} {value} is not a date",
)
def bad_date(ctx: Context) -> Flags:
    """A date that is not a real calendar date.

    What it checks:
        service_date and member_dob must be dates: 2026-03-04, 03/04/2026,
        3/4/26, 20260304 or Mar 4, 2026. Impossible dates (2026-02-30) and text
        are refused; nothing is guessed.
    Why it matters:
        Limits count by day, month and year, and eligibility by age on the
        date of service; a wrong date bills against the wrong period.
    Example:
        service_date '2026-13-04'. A birth date is PHI: its message shows
        only its shape (member_dob shaped 9999-99-99), never its digits.
    How to fix:
        Correct the date in the EHR and re-export.
    Source:
        SPEC section 2 (member_dob, service_date); SPEC section 3 (no birth
        date in a message).
    """
    flags = _unparsed(ctx, _DATE_COLUMNS)
    values = pa.array(flags.fields["value"], pa.string())
    # A value's shape without its content: digits as 9, letters as A (`2010-05-32` -> `9999-99-99`).
    shape = pc.utf8_slice_codeunits(
        pc.replace_substring_regex(pc.replace_substring_regex(values, r"\d", "9"), r"\pL", "A"), 0, 40)
    quoted = pc.binary_join_element_wise("'", values, "'", "")
    shaped = pc.binary_join_element_wise("shaped '", shape, "'", "")
    is_birth = pa.array(flags.fields["column"] == "member_dob", pa.bool_())
    flags.fields["value"] = np.asarray(pc.if_else(is_birth, shaped, quoted).to_pylist(), dtype=object)
    return flags


def _unparsed(ctx: Context, columns: tuple[tuple[str, str], ...]) -> Flags:
    """Lines whose text in `column` did not parse into `typed` (MISSING or NaN there)."""
    parts = []
    for column, typed in columns:
        values = ctx.column(typed)
        failed = np.isnan(values) if values.dtype.kind == "f" else values == MISSING
        rows = np.flatnonzero(_parsed(ctx) & ctx.lines.text[column].present & failed)
        parts.append((rows, column, ctx.lines.text[column].text(rows)))
    return Flags(
        np.concatenate([p[0] for p in parts]),
        {
            "column": np.concatenate([np.full(p[0].size, p[1], dtype=object) for p in parts]),
            "value": np.concatenate([np.asarray(p[2].to_pylist(), dtype=object) for p in parts]),
        },
    )


@rule(
    "CM004",
    "input.bad_time",
    severity="error",
    stage="input",
    message="{column} '{value}' is not a time on the service date",
)
def bad_time(ctx: Context) -> Flags:
    """A start or end time that is not a time on the date of service.

    What it checks:
        start_time and end_time must be times of day (09:15, 9:15 AM, 0915) or
        date-times (2026-03-04 09:15). A dated start must fall on the service
        date; a dated end may fall on the next day, for a session past midnight.
    Why it matters:
        Units are earned by the documented time: without a start and an end
        there is nothing to bill, and overlaps cannot be found.
    Example:
        end_time '25:10', or start_time '2026-03-05 09:00' on a line whose
        service_date is 2026-03-04.
    How to fix:
        Correct the time in the note and re-export.
    Source:
        SPEC section 2 (start_time, end_time) and section 4.
    """
    return _unparsed(ctx, (("start_time", "start_minute"), ("end_time", "end_minute")))


@rule(
    "CM005",
    "input.bad_number",
    severity="error",
    stage="input",
    message="{column} '{value}' is not a valid amount",
)
def bad_number(ctx: Context) -> Flags:
    """A number column that does not hold a usable number.

    What it checks:
        units must be a whole number of 0 or more; travel_minutes and
        duration_minutes a number of minutes from 0 to 1440; charge an amount of 0 or more ($ and thousands
        separators allowed).
    Why it matters:
        Units and charges are what the claim bills and what finance
        reconciles; travel minutes are taken off the billable time.
    Example:
        units '2.5', or charge 'N/A'.
    How to fix:
        Correct the value in the EHR export; leave travel_minutes empty when
        there was no travel.
    Source:
        SPEC section 2 (units, travel_minutes, charge).
    """
    return _unparsed(
        ctx,
        (
            ("units", "units_export"),
            ("travel_minutes", "travel"),
            ("duration_minutes", "duration"),
            ("charge", "charge_amount"),
        ),
    )


@rule(
    "CM012",
    "input.duration_disagrees",
    severity="error",
    stage="input",
    message="end_time {end} and duration_minutes {duration} disagree: {start} plus {duration} minutes is {derived}",
)
def duration_disagrees(ctx: Context) -> Flags:
    """An end time and a duration that tell different stories.

    What it checks:
        When a line has both end_time and duration_minutes, the end must be
        the start plus the duration (to the minute).
    Why it matters:
        Units are earned by the documented time. Two different times on one
        note mean one of them is wrong, and billing either could bill time
        that was not given, which an audit recovers.
    Example:
        start_time 09:00, end_time 10:00, duration_minutes 45.
    How to fix:
        Correct the note in the EHR so its times and its duration agree, and
        re-export; or map only one of the two columns.
    Source:
        SPEC section 2 (duration_minutes) and section 4.
    """
    end = ctx.column("end_minute")
    derived = ctx.column("end_from_duration")
    both = _parsed(ctx) & ctx.lines.text["end_time"].present & (end != MISSING) & (derived != MISSING)
    rows = np.flatnonzero(both & (end != derived))
    if rows.size == 0:
        return Flags.none()
    duration = ctx.column("duration")[rows]
    whole = duration == np.floor(duration)
    duration_text = np.where(whole, np.floor(duration).astype(np.int64).astype(str), duration.astype(str))
    return Flags(
        rows,
        {
            "end": np.asarray(ctx.lines.text["end_time"].text(rows).to_pylist(), dtype=object),
            "duration": duration_text.astype(object),
            "start": np.asarray(ctx.lines.text["start_time"].text(rows).to_pylist(), dtype=object),
            "derived": _clock(derived[rows]),
        },
    )


def _clock(minutes: np.ndarray) -> np.ndarray:
    """Minutes after the service date's midnight as the clock reads them, the next day marked."""
    day, rest = np.divmod(minutes.astype(np.int64), 1440)
    hours = np.char.zfill((rest // 60).astype(str), 2)
    mins = np.char.zfill((rest % 60).astype(str), 2)
    later = np.where(day == 1, " the next day", np.where(day > 1, " " + day.astype(str) + " days later", ""))
    return np.char.add(np.char.add(np.char.add(hours, ":"), mins), later).astype(object)


def _service_problem(ctx: Context, problem: int) -> Flags:
    rows = np.flatnonzero(_parsed(ctx) & (ctx.services.problem == problem) & ctx.lines.text["hcpcs"].present)
    return Flags(rows, {"reason": ctx.services.reason(rows)})


@rule("CM006", "input.unknown_code", severity="error", stage="input", message="{reason}")
def unknown_code(ctx: Context) -> Flags:
    """A procedure code this payer does not pay.

    What it checks:
        The line's hcpcs must be one of the codes of the profile (ok-soonercare
        pays T1017 only; mi-dwihn pays T1016, T1017, H0023, H0038, H0046, H2035
        and H2036).
    Why it matters:
        The payer denies a code outside the contract; billing it to the wrong
        payer delays the money that is owed.
    Example:
        H0038 (peer support) on an ok-soonercare export.
    How to fix:
        Check the code in the EHR service definition, or run the line with the
        profile of the payer it belongs to.
    Source:
        SPEC section 8: each profile's codes (code_tables/profiles/).
    """
    return _service_problem(ctx, UNKNOWN_CODE)


@rule("CM007", "input.bad_modifier", severity="error", stage="input", message="{reason}")
def bad_modifier(ctx: Context) -> Flags:
    """A modifier unknown to cmclaims, or one the payer does not use with the code.

    What it checks:
        Every modifier on the line must be in code_tables/modifiers.csv and be
        one the profile allows with the line's code.
    Why it matters:
        Modifiers decide the service and its rate; a stray modifier is the most
        common reason a case management claim is denied.
    Example:
        T1017 HE TJ on ok-soonercare (TJ is a Michigan youth peer modifier).
    How to fix:
        Correct the modifiers in the EHR's service setup and re-export.
    Source:
        SPEC section 8; seeds 002 (the Oklahoma modifier table), 000 (Michigan
        codes and modifiers).
    """
    return _service_problem(ctx, BAD_MODIFIER)


@rule("CM008", "input.no_service", severity="error", stage="input", message="{reason}")
def no_service(ctx: Context) -> Flags:
    """Modifiers that do not name one of the payer's services.

    What it checks:
        The first modifier the payer requires (Oklahoma: HE, HF or HV), and a
        single level modifier that matches a service of the profile (Oklahoma:
        TF, TG, HN, HM, or none for PACT).
    Why it matters:
        The service, not the code, carries the age band, the limits, the
        program and the staff the payer accepts; without it none of them can
        be checked and the claim would be denied.
    Example:
        T1017 TF HE on ok-soonercare: HE must come first.
    How to fix:
        Put the program modifier first and keep one level modifier, as the
        payer's modifier table shows (`cmclaims profiles`).
    Source:
        seeds/002 (SoonerCare T1017 modifier table); SPEC section 5.
    """
    return _service_problem(ctx, NO_SERVICE)


@rule(
    "CM009",
    "input.unknown_value",
    severity="error",
    stage="input",
    message="{column} '{value}' is not one of the values cmclaims knows ({expected})",
)
def unknown_value(ctx: Context) -> Flags:
    """A value outside its column's vocabulary.

    What it checks:
        activity, contact_type, member_present, note_signed, member_setting,
        member_population, claim_frequency and the credentials in
        staff_credential must come from the vocabularies of SPEC section 2
        (case does not matter); place_of_service must be two digits.
    Why it matters:
        The payer rules are written against these values; an unknown one would
        let a non-billable activity or an ineligible setting pass unnoticed.
    Example:
        activity 'home visit' (not a vocabulary word; 'monitoring' or
        'linkage' probably is).
    How to fix:
        Map the EHR's own words to the vocabulary in the export, or correct the
        value; `cmclaims rule CM009` lists this explanation.
    Source:
        SPEC section 2: vocabularies; code_tables/vocabularies.toml.
    """
    failures = _schema_failures(ctx)
    wrong = failures[~failures["missing"]]
    expected = {
        column: ", ".join(ctx.profile.catalog.vocabulary(vocabulary)[:8])
        + (", ..." if len(ctx.profile.catalog.vocabulary(vocabulary)) > 8 else "")
        for column, vocabulary in VOCABULARY_COLUMNS.items()
    }
    expected["place_of_service"] = "a two-digit place of service code"
    # With a staff file the line's staff_credential is not used, so its words are not judged.
    uses_line_credentials = ctx.side.staff is None
    credentials = np.flatnonzero(_parsed(ctx) & ctx.column("staff_quals_unknown") & uses_line_credentials)
    return Flags(
        np.concatenate([wrong["line"].to_numpy(), credentials]),
        {
            "column": np.concatenate(
                [wrong["column"].to_numpy(dtype=object), np.full(credentials.size, "staff_credential", object)]
            ),
            "value": np.concatenate(
                [
                    wrong["value"].to_numpy(dtype=object),
                    np.asarray(ctx.lines.text["staff_credential"].text(credentials).to_pylist(), dtype=object),
                ]
            ),
            "expected": np.concatenate(
                [
                    wrong["column"].map(expected).to_numpy(dtype=object),
                    np.full(credentials.size, "credentials and trainings of SPEC section 2", object),
                ]
            ),
        },
    )


@rule(
    "CM010",
    "input.duplicate_claim_id",
    severity="error",
    stage="input",
    message="claim_id {claim_id} {detail}",
)
def duplicate_claim_id(ctx: Context) -> Flags:
    """The same claim_id on more than one line of the batch.

    What it checks:
        claim_id identifies one service line. When it repeats with different
        contents, every line that carries it is held back. A line repeated
        exactly (the export wrote it twice) keeps its first copy and the copies
        after it are held back.
    Why it matters:
        The ledger, voids and replacements and finance's reconciliation all
        find a line by its claim_id; two lines under one id would bill one and
        lose the other, or bill both.
    Example:
        Two lines claim_id 88123, one for 2 units on 2026-03-04, one for 3 units
        on 2026-03-05.
    How to fix:
        Give each service line its own id in the EHR and re-export.
    Source:
        SPEC section 7 (CM0: duplicate claim_id in the batch).
    """
    keys = ctx.column("claim_key")
    usable = _parsed(ctx) & (keys >= 0)
    # one more bin than there are ids, so that lines without one (-1, read as 0) index a real bin
    counts = np.bincount(keys[usable], minlength=len(ctx.lines.text["claim_id"].values) + 1)
    repeated = np.flatnonzero(usable & (counts[np.maximum(keys, 0)] > 1))
    if repeated.size == 0:
        return Flags.none()
    # Compare every text column of the few repeated lines: exact copies keep their first line.
    contents = pd.DataFrame({name: f.codes[repeated] for name, f in ctx.lines.text.items()})
    columns = list(contents.columns)
    conflicting = (contents.groupby("claim_id")[columns].transform("nunique").max(axis=1) > 1).to_numpy()
    copy = contents.duplicated(keep="first").to_numpy()
    flagged = conflicting | copy
    rows = repeated[flagged]
    count = counts[keys[rows]].astype(str).astype(object)
    detail = np.where(
        conflicting[flagged],
        "is on " + count + " lines of this batch with different contents; hold them all until it is unique",
        "repeats an earlier line of the batch exactly; only the first copy is billed",
    )
    claim_text = np.asarray(ctx.lines.text["claim_id"].text(rows).to_pylist(), dtype=object)
    return Flags(rows, {"claim_id": claim_text, "detail": detail})


@rule(
    "CM011",
    "input.implausible_date",
    severity="error",
    stage="input",
    message="{reason}",
)
def implausible_date(ctx: Context) -> Flags:
    """Dates that are real but cannot be right.

    What it checks:
        A birth date after the date of service, a member older than 120 on the
        date of service, or a date of service after the day of the run.
    Why it matters:
        Such dates are typing errors; billing them bills the wrong period or
        the wrong age band, and a future date of service is a claim for a
        service not yet given.
    Example:
        service_date 2062-03-04 (for 2026-03-04).
    How to fix:
        Correct the date in the EHR and re-export.
    Source:
        SPEC section 2; billing a service before it is given is never allowed.
    """
    service = ctx.column("service_day")
    birth = ctx.column("dob_day")
    both = _parsed(ctx) & (service != MISSING) & (birth != MISSING)
    age = ctx.column("age")
    today = day_number(ctx.today)
    born_after = both & (birth > service)
    too_old = both & ~born_after & (age > 120)
    future = _parsed(ctx) & (service != MISSING) & (service > today)
    reason = np.full(ctx.lines.size, "", dtype=object)
    reason[too_old] = "the member would be over 120 years old on the date of service; check member_dob"
    reason[born_after] = "member_dob is after the date of service"
    reason[future] = "the date of service is after today; a service cannot be billed before it is given"
    return Flags.where(born_after | too_old | future, reason=reason)
