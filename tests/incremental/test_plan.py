"""The rebuild plan: each decision as the state of the site and its cache calls for."""

from __future__ import annotations

import shutil
from pathlib import Path

from kbsite.build import BuildOptions, build_site, find_inputs
from kbsite.config import Config
from kbsite.incremental.plan import plan_reading
from kbsite.report import BuildReport

CYCLE = Path(__file__).parents[1] / "sites" / "cycle"


def test_a_built_site_is_up_to_date_and_full_reads_everything(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(CYCLE, source)
    options = BuildOptions([source], tmp_path / "site", index=tmp_path / "ix")
    first = plan_reading(find_inputs(options, BuildReport()), full=False)
    assert not first.usable and first.notes == [] and len(first.todo) == 3
    build_site(options)
    again = plan_reading(find_inputs(options, BuildReport()), full=False)
    assert again.usable and again.up_to_date and again.todo == []
    full = plan_reading(find_inputs(options, BuildReport()), full=True)
    assert not full.usable and not full.up_to_date and len(full.todo) == 3


def test_new_settings_are_something_to_do_and_a_damaged_cache_a_note(tmp_path: Path) -> None:
    options = BuildOptions([CYCLE], tmp_path / "site", index=tmp_path / "ix")
    build_site(options)
    retitled = BuildOptions([CYCLE], options.output, index=options.index, settings=Config("New"))
    plan = plan_reading(find_inputs(retitled, BuildReport()), full=False)
    assert plan.usable and not plan.up_to_date
    (tmp_path / ".site.kbsite-cache" / "detail.bin").write_bytes(b"damaged")
    plan = plan_reading(find_inputs(retitled, BuildReport()), full=False)
    assert not plan.usable and len(plan.todo) == 3
    assert plan.notes == [f"{tmp_path / '.site.kbsite-cache' / 'detail.bin'} is damaged "
                          "(its digest does not match); ignoring the cache"]  # fmt: skip
