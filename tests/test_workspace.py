"""A reader's working copy survives new releases."""

from dlnotes_course.workspace import sync


def test_first_sync_copies_every_chapter(tmp_path):
    chapters, ws = tmp_path / "chapters", tmp_path / "ws"
    chapters.mkdir()
    (chapters / "01_a.ipynb").write_text("release 1")
    msgs = sync(chapters, ws)
    assert (ws / "01_a.ipynb").read_text() == "release 1"
    assert any("new chapter" in m for m in msgs)


def test_new_release_never_overwrites_the_readers_answers(tmp_path):
    chapters, ws = tmp_path / "chapters", tmp_path / "ws"
    chapters.mkdir()
    (chapters / "01_a.ipynb").write_text("release 1")
    sync(chapters, ws)
    (ws / "01_a.ipynb").write_text("my answers")
    (chapters / "01_a.ipynb").write_text("release 2")
    msgs = sync(chapters, ws)
    assert (ws / "01_a.ipynb").read_text() == "my answers"
    assert (ws / "01_a.new-release.ipynb").read_text() == "release 2"
    assert any("01_a has a new release" in m for m in msgs)


def test_unchanged_release_says_nothing(tmp_path):
    chapters, ws = tmp_path / "chapters", tmp_path / "ws"
    chapters.mkdir()
    (chapters / "01_a.ipynb").write_text("release 1")
    sync(chapters, ws)
    (ws / "01_a.ipynb").write_text("my answers")
    assert sync(chapters, ws) == []
