"""The same grading on a Dask cluster: a 2-worker LocalCluster started by the test."""

from __future__ import annotations

import nbformat
import pytest

from chapter_runs import released
from dlnotes_course.grade import grade_folder
from dlnotes_course.source import load_chapter
from dlnotes_course.submissions import answered
from planted import mistakes

CHAPTER = "01_metrics"
pytestmark = pytest.mark.slow
distributed = pytest.importorskip("dask.distributed")


def test_dask_cluster_grades_like_local_workers(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    source, release = load_chapter(CHAPTER), released(CHAPTER)
    nbformat.write(answered(release, source), subs / "good.ipynb")
    nbformat.write(release, subs / "blank.ipynb")
    m = mistakes(CHAPTER)[0]
    nbformat.write(answered(release, source, {m["cell"]: m["source"]}), subs / "planted.ipynb")
    (subs / "broken.ipynb").write_text("{")

    local = grade_folder(CHAPTER, subs, tmp_path / "local", tmp_path / "c1", workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = grade_folder(CHAPTER, subs, tmp_path / "dask", tmp_path / "c2", dask=client)
        assert len(client.scheduler_info()["workers"]) == 2

    def summary(results):
        return [(r.student, r.status, r.score, [c.passed for c in r.checks]) for r in results]

    assert summary(remote) == summary(local)
    assert [(r.student, r.status) for r in remote] == [
        ("blank", "graded"), ("broken", "invalid"), ("good", "graded"), ("planted", "graded")]
    assert (tmp_path / "dask" / "grades.csv").read_text() == \
        (tmp_path / "local" / "grades.csv").read_text()
    assert sorted(p.name for p in (tmp_path / "dask" / "results").iterdir()) == \
        ["blank.json", "good.json", "planted.json"]
