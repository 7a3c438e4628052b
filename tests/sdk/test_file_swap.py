"""Swapping a new file into the place of an old one (weir/_file_swap.py), as the
filesystem I/O manager stores every value."""

import sys
import threading

import pytest
import weir as dg
from weir import _file_swap
from weir._file_swap import replace_file


@pytest.fixture(params=["exchange", "os.replace"])
def swap_way(request, monkeypatch):
    """Each test runs with renameat2 and with the fallback used where it is missing."""
    if request.param == "os.replace":
        monkeypatch.setattr(_file_swap, "_renameat2", lambda: None)
    return request.param


def test_the_new_file_takes_the_old_ones_place_and_no_temporary_is_left(tmp_path, swap_way):
    target, new = tmp_path / "value.json", tmp_path / ".value.json.tmp"
    target.write_text("old")
    new.write_text("new")
    replace_file(str(new), str(target))
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["value.json"]


def test_a_missing_target_is_created(tmp_path, swap_way):
    target, new = tmp_path / "value.json", tmp_path / ".value.json.tmp"
    new.write_text("first")
    replace_file(str(new), str(target))
    assert target.read_text() == "first"
    assert not new.exists()


def test_a_missing_new_file_is_an_error_and_the_target_stays(tmp_path, swap_way):
    target = tmp_path / "value.json"
    target.write_text("kept")
    with pytest.raises(FileNotFoundError):
        replace_file(str(tmp_path / "gone"), str(target))
    assert target.read_text() == "kept"


def test_a_reader_always_finds_a_whole_value_while_it_is_replaced(tmp_path, swap_way):
    target = tmp_path / "value.json"
    target.write_text("0")
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                seen.append(target.read_text())
            except FileNotFoundError:
                seen.append("missing")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for index in range(1, 400):
            new = tmp_path / f".value.{index}"
            new.write_text(str(index))
            replace_file(str(new), str(target))
    finally:
        done.set()
        reader.join()
    assert seen and "missing" not in seen and "" not in seen
    assert target.read_text() == "399"


@pytest.mark.skipif(sys.platform != "linux", reason="renameat2 is Linux's")
def test_linux_swaps_with_renameat2():
    # Without it every stored value pays for ext4's write-out on a replacing rename.
    assert _file_swap._renameat2() is not None


def test_rematerializing_replaces_the_stored_value_and_leaves_no_temporaries(tmp_path, swap_way):
    values = iter([{"n": 1}, {"n": 2}, {2, 3}])

    @dg.asset
    def counter():
        return next(values)

    io = dg.FilesystemIOManager(base_dir=str(tmp_path))
    dg.materialize([counter], resources={"io_manager": io})
    dg.materialize([counter], resources={"io_manager": io})
    assert (tmp_path / "counter.json").read_text() == '{"n": 2}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter.json"]
    dg.materialize([counter], resources={"io_manager": io})  # not JSON: pickled instead
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter.pkl"]
    assert io.load_input(dg.build_input_context(asset_key="counter")) == {2, 3}


def test_a_deleted_asset_directory_is_made_again(tmp_path):
    @dg.asset(key_prefix=["nested", "deeper"])
    def leaf():
        return 7

    io = dg.FilesystemIOManager(base_dir=str(tmp_path / "store"))
    dg.materialize([leaf], resources={"io_manager": io})
    (tmp_path / "store" / "nested" / "deeper" / "leaf.json").unlink()
    (tmp_path / "store" / "nested" / "deeper").rmdir()
    dg.materialize([leaf], resources={"io_manager": io})
    assert (tmp_path / "store" / "nested" / "deeper" / "leaf.json").read_text() == "7"


def test_a_directory_in_the_targets_place_is_an_error_and_stays_where_it_is(tmp_path, swap_way):
    target, new = tmp_path / "value.json", tmp_path / ".value.json.tmp"
    target.mkdir()
    (target / "inside").write_text("kept")
    new.write_text("new")
    with pytest.raises(IsADirectoryError):
        replace_file(str(new), str(target))
    assert (target / "inside").read_text() == "kept"
    assert new.read_text() == "new"
