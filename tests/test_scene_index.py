"""Scene index reuse/invalidation, cancel, and bad input: clear one-line errors and no partial files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from bad_input_helpers import one_error_line
from paths import ROOT
from raster_helpers import write_raster
from sarclip_core.errors import Cancelled, SarclipError
from sarclip_core.io import PixelBox
from sarclip_core.model import create_model, load_model, model_config, save_checkpoint
from sarclip_core.scene import (
    SceneSettings,
    build_index,
    classify_labels,
    count_objects,
    text_query,
)
from scene_helpers import speckle_scene


@pytest.fixture(scope="session")
def random_model(tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("model") / "tiny"
    save_checkpoint(folder, create_model("sarclip-tiny-rn"), model_config("sarclip-tiny-rn"))
    return folder


@pytest.fixture
def scene(tmp_path):
    return speckle_scene(tmp_path / "scene.tif", [(100, 100)], size=300)


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_index_is_reused_and_invalidated_by_file_or_model(tmp_path, scene, random_model):
    settings = SceneSettings(index_dir=tmp_path / "index")
    model = load_model(random_model)
    first = build_index(scene, model, settings)
    again = build_index(scene, model, settings)
    assert (first.reused, again.reused, again.path) == (False, True, first.path)
    os.utime(scene, (1, 1))  # touching the file changes mtime
    assert not build_index(scene, model, settings).reused
    torch.nn.init.normal_(model.model.visual.conv1.weight)  # another image tower
    assert not build_index(scene, model, settings).reused
    assert not build_index(scene, model, SceneSettings(overlap=0.5, index_dir=settings.index_dir)).reused  # not the default
    result = text_query(scene, "ship", tmp_path / "h.tif", model, settings)
    assert result["index_reused"] is True and result["windows"] == first.windows
    assert result["scene_cells"] == first.count == 10 * 10  # 300 px in cells of 32 px
    json.dumps(result)


def test_cancel_leaves_no_index_and_no_outputs(tmp_path, scene, random_model):
    calls = []
    with pytest.raises(Cancelled):
        text_query(scene, "ship", tmp_path / "h.tif", random_model,
                   SceneSettings(index_dir=tmp_path / "index", batch_size=2), progress=calls.append,
                   is_cancelled=lambda: len(calls) > 2)
    assert _files(tmp_path / "index") == []
    assert _files(tmp_path) == ["index", "scene.tif"]


def test_progress_rises_to_one(tmp_path, scene, random_model):
    seen = []
    text_query(scene, "ship", tmp_path / "h.tif", random_model, SceneSettings(index_dir=tmp_path / "i"),
               progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("call, message", [
    (lambda s, o, m: text_query(s, "  ", o / "h.tif", m), "query is empty"),
    (lambda s, o, m: classify_labels(s, "T72", o / "l.tif", o / "c.tif", m), "at least two labels"),
    (lambda s, o, m: classify_labels(s, " , ", o / "l.tif", o / "c.tif", m), "label set is empty"),
    (lambda s, o, m: text_query(s, "ship", o / "h.tif", o / "no-such-model"), "model not found"),
    (lambda s, o, m: text_query(s, "ship", o / "h.tif", m, SceneSettings(aoi=PixelBox(5000, 5000, 10, 10))),
     "outside the scene"),
    (lambda s, o, m: text_query(s, "ship", "/sys/h.tif", m), "not writable"),
    (lambda s, o, m: text_query(s, "ship", o / "missing" / "h.tif", m), "does not exist"),
    (lambda s, o, m: count_objects(s, "clutter", 100, o / "n.gpkg", model=m), "nothing to count"),
    (lambda s, o, m: count_objects(s, "ship", 0, o / "n.gpkg", model=m), "cell size must be positive"),
])
def test_bad_input_is_one_clear_error_and_leaves_nothing(tmp_path, scene, random_model, call, message,
                                                         monkeypatch):
    monkeypatch.setenv("SARCLIP_CACHE", str(tmp_path / "cache"))
    before = _files(tmp_path)
    with pytest.raises(SarclipError, match=message) as error:
        call(scene, tmp_path, random_model)
    assert "\n" not in str(error.value)
    assert [f for f in _files(tmp_path) if f != "cache"] == before


def test_all_nodata_scene_is_a_clear_error(tmp_path, random_model):
    scene = write_raster(tmp_path / "empty.tif", np.full((64, 64), -99, np.float32), nodata=-99)
    with pytest.raises(SarclipError, match="no valid pixels"):
        text_query(scene, "ship", tmp_path / "h.tif", random_model, SceneSettings(index_dir=tmp_path / "i"))
    assert not (tmp_path / "h.tif").exists() and _files(tmp_path / "i") == []


def test_tile_larger_than_the_scene_gives_one_padded_window(tmp_path, random_model):
    scene = speckle_scene(tmp_path / "small.tif", [], size=60)
    result = text_query(scene, "ship", tmp_path / "h.tif", random_model,
                        SceneSettings(tile=256, index_dir=tmp_path / "i"))
    assert result["windows"] == 1 and (tmp_path / "h.tif").exists()


def test_cli_writes_summary_and_reports_bad_input_in_one_line(tmp_path, scene, random_model):
    env = dict(os.environ, PYTHONPATH=str(ROOT), SARCLIP_CACHE=str(tmp_path / "cache"))
    command = [sys.executable, "-m", "sarclip_core.scene", str(scene), "--query", "ship", "--labels", "ship, clutter",
               "--count", "--model", str(random_model), "--out", str(tmp_path / "out"), "--json", str(tmp_path / "s.json")]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert set(summary) == {"query", "labels", "count"} and summary["query"]["windows"] > 0
    assert _files(tmp_path / "out") == ["confidence.tif", "counts.gpkg", "heatmap.png", "heatmap.tif", "labels.png",
                                        "labels.tif"]
    bad = subprocess.run(command[:4] + ["--query", "ship", "--model", str(tmp_path / "nope"), "--out",
                                         str(tmp_path / "o2")], capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in bad.stderr


def _index_folder(settings):
    (folder,) = [p for p in settings.cache_dir().iterdir() if not p.name.startswith(".")]
    return folder


def _truncate(path):
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def _garbage(path):
    path.write_bytes(np.random.default_rng(1).bytes(path.stat().st_size))


@pytest.mark.parametrize("damage, problem", [
    (lambda f: _truncate(f / "cells.f32"), "cells.f32 holds"),
    (lambda f: (f / "valid.u8").unlink(), "valid.u8 is missing"),
    (lambda f: _garbage(f / "cells.f32"), "cells.f32 does not match its checksum"),
    (lambda f: _truncate(f / "valid.u8"), "valid.u8 holds"),
    (lambda f: (f / "index.json").write_text("{not json"), "index.json cannot be read"),
])
def test_a_damaged_index_is_rebuilt_with_a_note(tmp_path, scene, random_model, damage, problem):
    settings = SceneSettings(index_dir=tmp_path / "index")
    model = load_model(random_model)
    first = text_query(scene, "ship", tmp_path / "a.tif", model, settings)
    damage(_index_folder(settings))
    again = text_query(scene, "ship", tmp_path / "b.tif", model, settings)
    assert again["index_reused"] is False
    assert any(problem in note and "rebuilt" in note for note in again["warnings"]), again["warnings"]
    import rasterio
    with rasterio.open(tmp_path / "a.tif") as a, rasterio.open(tmp_path / "b.tif") as b:
        assert np.isfinite(b.read(1)).any()
        np.testing.assert_allclose(a.read(1), b.read(1), rtol=1e-5)
    third = text_query(scene, "ship", tmp_path / "c.tif", model, settings)
    assert third["index_reused"] is True and third["warnings"] == []
    assert first["index"] == again["index"] == third["index"]


def test_garbage_with_the_recorded_time_is_caught_by_the_unit_check(tmp_path, scene, random_model):
    settings = SceneSettings(index_dir=tmp_path / "index")
    model = load_model(random_model)
    build_index(scene, model, settings)
    cells = _index_folder(settings) / "cells.f32"
    stat = cells.stat()
    _garbage(cells)
    os.utime(cells, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the checksum is skipped: the sample check holds
    assert build_index(scene, model, settings).reused is False


def test_a_reused_index_is_not_read_whole_and_an_old_one_gets_checksums(tmp_path, scene, random_model, monkeypatch):
    from sarclip_core.scene import index as index_module
    settings = SceneSettings(index_dir=tmp_path / "index")
    model = load_model(random_model)
    build_index(scene, model, settings)
    meta_path = _index_folder(settings) / "index.json"
    meta = json.loads(meta_path.read_text())
    assert set(meta["files"]) == {"cells.f32", "valid.u8"}
    del meta["files"]  # as an index built before checksums were recorded
    meta_path.write_text(json.dumps(meta))
    assert build_index(scene, model, settings).reused is True
    assert set(json.loads(meta_path.read_text())["files"]) == {"cells.f32", "valid.u8"}
    hashed = []
    monkeypatch.setattr(index_module, "file_facts", lambda path: hashed.append(path))
    assert build_index(scene, model, settings).reused is True and hashed == []


def test_the_cache_keeps_to_its_limit_least_recently_used_first_and_can_be_cleared(tmp_path, random_model):
    from sarclip_core.scene.cache import clear, folder_bytes, index_folders
    model = load_model(random_model)
    scenes = [speckle_scene(tmp_path / f"s{k}.tif", [(40, 40)], size=200, seed=k) for k in range(3)]
    settings = SceneSettings(index_dir=tmp_path / "index")
    paths = [build_index(s, model, settings).path for s in scenes[:2]]
    one = folder_bytes(paths[0])
    os.utime(paths[1], (1, 1))  # s1 used long ago, s0 since
    os.utime(paths[0], (2, 2))
    build_index(scenes[0], model, settings)  # reusing s0 marks it used now
    limited = SceneSettings(index_dir=settings.index_dir, index_cache_gb=2.5 * one / 1e9)
    third = build_index(scenes[2], model, limited).path
    assert index_folders(settings.cache_dir()) == [paths[0], third]  # s1, least recently used, went
    (settings.cache_dir() / "notes.txt").write_text("not an index")
    count, freed = clear(settings.cache_dir())
    assert count == 2 and freed == pytest.approx(2 * one, abs=100)
    build_index(scenes[1], model, settings)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "sarclip_core.scene", "--clear-index-cache", "--index-dir",
                           str(settings.cache_dir())], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and "removed 1 scene index" in done.stdout, done.stderr
    assert sorted(p.name for p in settings.cache_dir().iterdir()) == ["notes.txt"]


def test_an_index_larger_than_the_cache_limit_is_refused_before_any_work(tmp_path, scene, random_model):
    settings = SceneSettings(index_dir=tmp_path / "index", index_cache_gb=1e-6)
    with pytest.raises(SarclipError, match=r"would take about .* limited to 1.0 kB.*--aoi.*--resolution") as error:
        text_query(scene, "ship", tmp_path / "h.tif", random_model, settings)
    assert "\n" not in str(error.value) and str(scene) in str(error.value)
    assert _files(tmp_path / "index") == [] and _files(tmp_path) == ["index", "scene.tif"]


def test_an_index_larger_than_the_free_disk_is_refused_in_one_line(tmp_path, random_model):
    """A 475-byte VRT declaring 10^6 x 10^6 pixels: the estimate, the free space and how to narrow it, no work."""
    source = speckle_scene(tmp_path / "small.tif", [], size=64)
    vrt = tmp_path / "huge.vrt"
    vrt.write_text(f"""<VRTDataset rasterXSize="1000000" rasterYSize="1000000">
  <SRS>EPSG:32631</SRS>
  <GeoTransform>600000, 10, 0, 4800000, 0, -10</GeoTransform>
  <VRTRasterBand dataType="Float32" band="1">
    <SimpleSource><SourceFilename relativeToVRT="0">{source}</SourceFilename><SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="64" ySize="64"/><DstRect xOff="0" yOff="0" xSize="64" ySize="64"/>
    </SimpleSource>
  </VRTRasterBand>
</VRTDataset>""")
    out, index = tmp_path / "out", tmp_path / "index"
    env = dict(os.environ, PYTHONPATH=str(ROOT), SARCLIP_INDEX_CACHE_GB="1e9")  # only the disk can refuse it
    done = subprocess.run([sys.executable, "-m", "sarclip_core.scene", str(vrt), "--query", "ship", "--model",
                           str(random_model), "--out", str(out), "--index-dir", str(index), "--overlap", "0.5"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    line = one_error_line(done.stderr, str(vrt), "would take about", "TB", "244,109,376 windows", "free", "--aoi",
                          "--resolution")
    assert f"{index} has " in line
    assert _files(index) == [] and not out.exists()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_staging_of_dead_runs_is_swept_at_start_and_a_live_runs_is_kept(tmp_path, scene, random_model):
    out, index = tmp_path / "out", tmp_path / "index"
    out.mkdir()
    index.mkdir()
    dead, live = _dead_pid(), os.getpid()
    stale = [out / f".h.tif.tmp-{dead}-0a1b2c3d.acc.tif", out / f".h.tif.tmp-{dead}-0a1b2c3d.partial.tif",
             out / f".h.png.tmp-{dead}-0a1b2c3d.partial.png", index / f".{'0' * 32}.tmp-{dead}-0a1b2c3d"]
    kept = [out / f".h.tif.tmp-{live}-0a1b2c3d.acc.tif", out / f".notes.txt.tmp-{dead}", out / ".h.tif.acc.tif",
            index / f".{'1' * 32}.tmp-{live}-0a1b2c3d"]
    for path in stale + kept:
        path.mkdir() if path.parent == index else path.write_bytes(b"x")
    text_query(scene, "ship", out / "h.tif", random_model, SceneSettings(index_dir=index))
    assert [p for p in stale if p.exists()] == [] and all(p.exists() for p in kept)


@pytest.mark.parametrize("phase", ["indexing", "writing the heatmap"])
def test_sigterm_mid_run_leaves_nothing_behind(tmp_path, random_model, phase):
    """SIGTERM (timeout, a service manager, a killed qgis_process) cleans up like Ctrl-C, in a real process."""
    scene = speckle_scene(tmp_path / "scene.tif", [(100, 100)], size=1536)
    out, index = tmp_path / "out", tmp_path / "index"
    if phase == "writing the heatmap":
        build_index(scene, random_model, SceneSettings(index_dir=index))
    before = _files(index) if index.exists() else []
    staging = (lambda: list(index.glob(".*.tmp-*"))) if phase == "indexing" else \
        (lambda: list(out.rglob(".heatmap.tif.tmp-*.partial.tif")))  # in the run's staging folder
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-m", "sarclip_core.scene", str(scene), "--query", "ship", "--model",
                              str(random_model), "--out", str(out), "--index-dir", str(index), "--batch-size", "1",
                              "--output-factor", "1"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (index.is_dir() and out.is_dir() and staging()) and child.poll() is None:
            assert time.monotonic() < deadline, "the run never got to the phase"
            time.sleep(0.005)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 143, err
    one_error_line(err, "interrupted", "SIGTERM")
    assert _files(index) == before and not out.exists()  # the run made --out, and removed it empty


def test_a_10000_character_query_works_and_says_it_was_cut(tmp_path, scene, random_model, capsys):
    from sarclip_core.scene.__main__ import main as scene_main
    query = ("a long pasted paragraph about ships in a harbour " * 250)[:10_000]
    out, summary = tmp_path / "out", tmp_path / "s.json"
    assert scene_main([str(scene), "--query", query, "--model", str(random_model), "--out", str(out),
                       "--index-dir", str(tmp_path / "index"), "--json", str(summary)]) == 0
    warnings = json.loads(summary.read_text())["query"]["warnings"]
    assert any("10,000 characters" in w and "text tower's context of" in w for w in warnings), warnings
    assert "note: the query (10,000 characters)" in capsys.readouterr().out
    assert _files(out) == ["heatmap.png", "heatmap.tif"]


def test_a_full_disk_while_indexing_is_one_line_and_leaves_nothing(tmp_path, scene, random_model, monkeypatch):
    """The index's files are allocated up front, so a full disk is an error there, never a SIGBUS mid-map."""
    import errno

    from sarclip_core.scene import accumulate

    def full(descriptor, offset, size):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(accumulate.os, "posix_fallocate", full)
    with pytest.raises(SarclipError, match=r"index: cannot write the scene index \(No space left on device\)"):
        text_query(scene, "ship", tmp_path / "h.tif", random_model, SceneSettings(index_dir=tmp_path / "index"))
    assert _files(tmp_path / "index") == [] and _files(tmp_path) == ["index", "scene.tif"]


def test_an_output_name_that_is_a_folder_is_refused_before_any_work(tmp_path, scene, random_model):
    """As through qgis_process, where the engine's own check is the only one."""
    (tmp_path / "h.tif").mkdir()
    with pytest.raises(SarclipError, match="h.tif: is a folder; give a file name"):
        text_query(scene, "ship", tmp_path / "h.tif", random_model, SceneSettings(index_dir=tmp_path / "index"))
    assert _files(tmp_path) == ["h.tif", "scene.tif"]


def test_eviction_spares_an_index_another_run_may_be_reading(tmp_path):
    from sarclip_core.scene.cache import IN_USE_SECONDS, prune
    cache = tmp_path / "index"
    folders = []
    for k in range(3):
        folder = cache / f"{k:032x}"
        folder.mkdir(parents=True)
        (folder / "cells.f32").write_bytes(b"\0" * 1000)
        folders.append(folder)
    long_ago = time.time() - 2 * IN_USE_SECONDS
    os.utime(folders[0], (long_ago, long_ago))  # 0: idle; 1: opened a minute ago by another run; 2: this run's
    os.utime(folders[1], (time.time() - 60, time.time() - 60))
    assert prune(cache, 1000, keep=folders[2]) == [folders[0]]
    assert [f.exists() for f in folders] == [False, True, True]  # over the limit until 1 has been idle a while
