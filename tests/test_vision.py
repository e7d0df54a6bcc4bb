"""The vision adapter: strip synthesis, image I/O, the shipped `digits` checkpoint, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from v3_cli.main import cli

import v3vision
from v3.adapters import get_adapter
from v3.checkpoint import build_model
from v3.errors import InputError
from v3vision.api import DigitReader
from v3vision.data import ALL_COLOURS, cut_cells, load_image, make_digit_strips, read_manifest

SHIPPED = Path(v3vision.__file__).parent / "checkpoints" / "digits.pt"
needs_shipped = pytest.mark.skipif(not SHIPPED.is_file(), reason="shipped digits checkpoint not built yet")


@pytest.fixture(scope="module")
def strips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny data folder: 1 train and 2 test strips per colour (fresh seed, unseen handwriting in test/ood)."""
    out = tmp_path_factory.mktemp("strips")
    make_digit_strips(out, train_strips_per_colour=1, test_strips_per_colour=2, seed=123)
    return out


@pytest.fixture(scope="module")
def reader() -> DigitReader:
    return DigitReader(SHIPPED)


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def _one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


# ------------------------------------------------------------------ data


def test_make_data_layout_and_split(strips: Path) -> None:
    for split, n in (("train", 8), ("test", 16), ("ood", 16)):
        manifest = read_manifest(strips / split)
        assert len(manifest["strips"]) == n
        for entry in manifest["strips"]:
            assert sorted(entry["digits"]) == list(range(10))
            image = load_image(strips / split / entry["path"])
            assert image.shape == (24, 240, 3)
    train_sources = {s for e in read_manifest(strips / "train")["strips"] for s in e["sources"]}
    test_sources = {s for split in ("test", "ood") for e in read_manifest(strips / split)["strips"] for s in e["sources"]}
    assert not train_sources & test_sources  # test strips use unseen handwriting
    assert {e["colour"] for e in read_manifest(strips / "ood")["strips"]}.isdisjoint(
        {e["colour"] for e in read_manifest(strips / "train")["strips"]})


def test_make_data_is_deterministic(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        make_digit_strips(tmp_path / name, train_strips_per_colour=1, test_strips_per_colour=1, seed=seed)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert (tmp_path / "a" / "train" / "strip_00000.png").read_bytes() != (tmp_path / "c" / "train" / "strip_00000.png").read_bytes()


def test_make_data_cli(tmp_path: Path) -> None:
    result = _run("vision", "make-data", str(tmp_path / "d"), "--train-strips", "1", "--test-strips", "1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "d" / "ood" / "manifest.json").is_file()


def test_cut_cells_rules() -> None:
    strip = np.ones((24, 240, 3), np.float32)
    assert cut_cells(strip, cell_size=24).shape == (10, 3, 24, 24)
    assert cut_cells(strip, cell_size=16, cells=5).shape == (5, 3, 16, 16)  # 48 px cells resized to 16
    assert cut_cells(strip, cell_size=24, cell_width=30).shape == (8, 3, 24, 24)
    for kwargs in ({"cells": 7}, {"cell_width": 25}):
        with pytest.raises(InputError, match="width 240"):
            cut_cells(strip, cell_size=24, **kwargs)
    with pytest.raises(InputError, match="multiple of the height"):
        cut_cells(np.ones((24, 250, 3), np.float32), cell_size=24)


def test_load_image_validates() -> None:
    assert load_image(np.zeros((4, 8, 4), np.uint8)).shape == (4, 8, 3)  # RGBA onto white
    for bad, match in ((np.zeros((4, 8)), "1 channel"), (np.zeros((4, 8, 2)), "2 channel"),
                       (np.zeros((0, 8, 3)), "empty"), (b"", "empty"), (b"not a png", "not a readable image")):
        with pytest.raises(InputError, match=match):
            load_image(bad)


def test_recolour_augmentation_keeps_shape_and_changes_colour() -> None:
    adapter = get_adapter("vision")
    cfg = adapter.parse_config({"recolour_probability": 1.0})
    x = torch.ones(2, 10, 3, 24, 24)
    x[:, :, 0, 8:16, 8:16] = 0.0  # cyan ink squares
    out = adapter.augment(x, cfg, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert torch.allclose(out[:, :, :, :8, :8], x[:, :, :, :8, :8])  # paper stays white
    ink = (1 - out[:, :, :, 8:16, 8:16]).mean(dim=(3, 4))  # [2, 10, 3]
    assert torch.allclose(ink, ink[:, :1], atol=1e-4)  # one colour per strip
    assert not torch.allclose(ink[0, 0], torch.tensor([1.0, 0.0, 0.0]), atol=0.05)


def test_deskew_centres_and_deslants() -> None:
    from v3vision.backbones import deskew_cells

    x = torch.ones(2, 3, 16, 16)
    x[0, :, 2:6, 2:6] = 0.0  # a square in the top-left corner
    for r in range(2, 14):
        x[1, :, r, 4 + r // 2] = 0.0  # a line slanted by 1/2 px per row
    y = deskew_cells(x)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    ink = (1 - y).mean(dim=1)
    rows, cols = (ink[0] > 0.5).nonzero().T
    assert rows.min() == cols.min() == 6 and rows.max() == cols.max() == 9  # centred
    assert set((ink[1] > 0.3).nonzero()[:, 1].tolist()) <= {7, 8}  # upright
    assert torch.equal(deskew_cells(torch.ones(1, 3, 8, 8)), torch.ones(1, 3, 8, 8))  # blank stays blank


def test_backbones_shapes_and_untrained_model() -> None:
    adapter = get_adapter("vision")
    config = adapter.default_config()
    model = build_model(adapter, config)
    shape = adapter.fragment_shape(adapter.parse_config(config.adapter_config))
    out = model(torch.rand(2, 10, *shape))
    assert out.reconstruction.shape == (2, 10, *shape)
    assert out.codes.shape == (2, 10) and out.style.shape == (2, 10, config.model.style_dim)


# ------------------------------------------------------------------ shipped checkpoint: known answers


def _read_accuracy(strips: Path, reader: DigitReader, split: str = "test") -> float:
    right = total = 0
    for entry in read_manifest(strips / split)["strips"]:
        digits = reader.read(strips / split / entry["path"])
        right += sum(a == str(b) for a, b in zip(digits, entry["digits"]))
        total += len(entry["digits"])
    return right / total


@needs_shipped
def test_shipped_checkpoint_reads_unseen_strips(strips: Path, reader: DigitReader) -> None:
    """Regression floor on a fresh draw (160 cells): the shipped checkpoint reads about 0.97 (digits.md)."""
    assert _read_accuracy(strips, reader) >= 0.90


@pytest.fixture(scope="module")
def card_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digits card's data, `v3 vision make-data DIR --seed 0`: 200 test and 200 ood strips."""
    out = tmp_path_factory.mktemp("digits-seed0")
    make_digit_strips(out, seed=0)
    return out


@needs_shipped
def test_shipped_checkpoint_meets_the_reading_targets(card_data: Path, reader: DigitReader) -> None:
    """The issue's targets on unseen handwriting: 0.97 in the training colours, 0.90 in unseen ones."""
    assert _read_accuracy(card_data, reader, "test") >= 0.97
    assert _read_accuracy(card_data, reader, "ood") >= 0.90


@needs_shipped
def test_api_functions_mirror_cli(strips: Path, reader: DigitReader) -> None:
    path = strips / "test" / read_manifest(strips / "test")["strips"][0]["path"]
    array = np.asarray(Image.open(path))
    assert v3vision.read_digits(array, model=reader) == reader.read(path) == v3vision.read_digits(path, model=SHIPPED)
    result = _run("vision", "read", str(path), "--checkpoint", str(SHIPPED))
    assert result.exit_code == 0 and result.output.strip() == reader.read(path)
    # a strip scaled up 2x (48 px cells) reads the same after the stated resize rule
    big = np.asarray(Image.fromarray(array).resize((480, 48), Image.Resampling.BILINEAR))
    assert v3vision.read_digits(big, model=reader) == reader.read(path)
    vec = v3vision.embed(path, model=reader)
    assert vec.ndim == 1 and np.all(np.isfinite(vec))


def test_recolour_codebook_shape_runs(strips: Path, tmp_path: Path) -> None:
    """--shape codebook draws A's atoms at the model's cell size; --shape input keeps A's height."""
    a = strips / "test" / "strip_00000.png"
    b = strips / "ood" / "strip_00001.png"
    ckpt = str(SHIPPED) if SHIPPED.is_file() else "digits"
    if not SHIPPED.is_file():
        pytest.skip("shipped digits checkpoint not built yet")
    cell = DigitReader(SHIPPED).cell_size
    for shape, side in (("codebook", cell), ("input", 24)):
        out = tmp_path / f"{shape}.png"
        result = _run("vision", "recolor", str(a), str(b), "-o", str(out), "--shape", shape, "--checkpoint", ckpt)
        assert result.exit_code == 0, result.output
        assert load_image(out).shape == (side, 10 * side, 3)


def _grey_digit_classifier():
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    digits = load_digits()
    return SVC(gamma=0.001, C=10).fit(digits.data, digits.target)


def _cells_to_grey8(image: np.ndarray) -> np.ndarray:
    """RGB strip [S, S N, 3] -> sklearn-style ink [N, 64] on 0..16 (the 1/12 margin dropped)."""
    side = image.shape[0]
    m = side // 12
    ink = 1.0 - image.mean(axis=2)
    cells = ink.reshape(side, -1, side).transpose(1, 0, 2)[:, m : side - m, m : side - m]
    out = []
    for c in cells:
        small = np.asarray(Image.fromarray(c.astype(np.float32), mode="F").resize((8, 8), Image.Resampling.BOX))
        out.append(small.ravel() / max(small.max(), 1e-6) * 16)
    return np.asarray(out)


def _foreground_colour(image: np.ndarray) -> str:
    ink = 1.0 - image.mean(axis=2)
    mask = ink > 0.5 * ink.max()
    mean = image[mask].mean(axis=0) * 255
    names = {name: np.asarray(rgb) for name, rgb in ALL_COLOURS.values()}
    return min(names, key=lambda n: float(np.sum((names[n] - mean) ** 2)))


@pytest.fixture(scope="module")
def recolour_rates(strips: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[float, float]:
    """Recolour 8 pairs through the CLI; rates of A's digits read in OUT and of OUT's colour nearest B's."""
    if not SHIPPED.is_file():
        pytest.skip("shipped digits checkpoint not built yet")
    tmp_path = tmp_path_factory.mktemp("recolour")
    classifier = _grey_digit_classifier()
    a_entries = read_manifest(strips / "test")["strips"]
    b_entries = read_manifest(strips / "test")["strips"] + read_manifest(strips / "ood")["strips"]
    digit_right = digit_total = colour_right = colour_total = 0
    for i, a in enumerate(a_entries[::2]):
        b = b_entries[(5 * i + 3) % len(b_entries)]
        b_dir = "test" if b in a_entries else "ood"
        out = tmp_path / f"out{i}.png"
        result = _run("vision", "recolor", str(strips / "test" / a["path"]), str(strips / b_dir / b["path"]),
                      "-o", str(out), "--checkpoint", str(SHIPPED))
        assert result.exit_code == 0, result.output
        image = load_image(out)
        predicted = classifier.predict(_cells_to_grey8(image))
        digit_right += int(np.sum(predicted == np.asarray(a["digits"])))
        digit_total += 10
        for k in range(10):
            side = image.shape[0]
            colour_right += _foreground_colour(image[:, side * k : side * (k + 1)]) == b["colour"]
            colour_total += 1
    return digit_right / digit_total, colour_right / colour_total


@needs_shipped
def test_recolour_runs_and_keeps_some_digits(recolour_rates: tuple[float, float]) -> None:
    """Regression floor: the shipped checkpoint measured 0.94 (digits kept) on 200 pairs (digits.md)."""
    digits, _ = recolour_rates
    assert digits >= 0.80


@needs_shipped
def test_recolour_targets(recolour_rates: tuple[float, float]) -> None:
    digits, colours = recolour_rates
    assert digits >= 0.90
    assert colours >= 0.95


@needs_shipped
@pytest.mark.slow
def test_eval_writes_pictures(strips: Path, tmp_path: Path) -> None:
    result = _run("eval", "--checkpoint", str(SHIPPED), "--data", str(strips / "test"), "--out", str(tmp_path / "rep"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    for name in ("confusion.png", "tsne_content.png", "tsne_style.png", "reconstruction.png", "recolor.png"):
        assert (tmp_path / "rep" / name).stat().st_size > 0
    assert report["pictures"]["recolor"] == "recolor.png"


# ------------------------------------------------------------------ bad input: one line, exit 2, no output


def _bad_inputs(tmp: Path, good: Path) -> dict[str, tuple[Path, list[str]]]:
    text = tmp / "text.png"
    text.write_text("not an image")
    empty = tmp / "empty.png"
    empty.write_bytes(b"")
    grey = tmp / "grey.png"
    Image.new("L", (240, 24), 255).save(grey)
    grey_alpha = tmp / "la.png"
    Image.new("LA", (240, 24)).save(grey_alpha)
    return {
        "not an image": (text, []),
        "empty file": (empty, []),
        "1 channel": (grey, []),
        "2 channels": (grey_alpha, []),
        "width vs --cells": (good, ["--cells", "7"]),
        "width vs --cell-width": (good, ["--cell-width", "25"]),
        "missing file": (tmp / "nope.png", []),
    }


@pytest.mark.parametrize("command", ["read", "recolor-a", "recolor-b", "embed"])
def test_bad_input_matrix(strips: Path, tmp_path: Path, command: str) -> None:
    good = strips / "test" / "strip_00000.png"
    ckpt = str(SHIPPED) if SHIPPED.is_file() else "digits"
    for label, (path, extra) in _bad_inputs(tmp_path, good).items():
        out = tmp_path / f"out-{command}.png"
        if command == "read":
            args = ["vision", "read", str(path), *extra]
        elif command == "recolor-a":
            args = ["vision", "recolor", str(path), str(good), "-o", str(out), *extra]
        elif command == "recolor-b":
            args = ["vision", "recolor", str(good), str(path), "-o", str(out), *extra]
        else:
            args = ["vision", "embed", str(path), "-o", str(out), *extra]
        if not SHIPPED.is_file():
            pytest.skip("shipped digits checkpoint not built yet")
        line = _one_line_error(_run(*args, "--checkpoint", ckpt))
        assert line.startswith("Error:"), (label, line)
        assert not out.exists(), label
        assert not list(tmp_path.glob(".out-*")), label  # no temp file left behind


def test_unknown_checkpoint_is_one_line(strips: Path) -> None:
    line = _one_line_error(_run("vision", "read", str(strips / "test" / "strip_00000.png"), "--checkpoint", "nope"))
    assert "nope" in line


def test_draw_strip_paints_the_asked_digits_and_colour() -> None:
    from v3.errors import InputError
    from v3vision.data import draw_strip

    blue, rgb = draw_strip("731", "blue"), draw_strip([7, 3, 1], (0, 0, 255))
    assert blue.shape == (24, 72, 3) and np.array_equal(blue, rgb)
    ink = blue.min(axis=2) < 0.5
    assert ink[:, :24].any() and ink[:, 24:48].any() and ink[:, 48:].any()
    assert np.allclose(blue[..., 2], 1.0)  # blue ink keeps the blue channel at white
    assert not np.array_equal(draw_strip("731", index=1), draw_strip("731"))  # another writer
    with pytest.raises(InputError, match="not one of"):
        draw_strip("1", "mauve")


@needs_shipped
def test_eval_with_the_adapter_name_evaluates_the_shipped_model_and_draws_its_pictures(strips: Path,
                                                                                     tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = _run("eval", "--adapter", "vision", "--data", str(strips / "test"), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "codebook one-to-one accuracy" in result.output
    assert "tools do" not in result.output  # the vision tools read the stored atom names
    for picture in ("confusion.png", "tsne_content.png", "tsne_style.png", "reconstruction.png", "recolor.png"):
        assert (out / picture).stat().st_size > 0, picture
    for args, needle in ((["--adapter", "music", "--checkpoint", str(SHIPPED)], "a 'vision' model, not 'music'"),
                         (["--adapter", "music"], "choose one with --checkpoint"),
                         ([], "give --checkpoint")):
        result = _run("eval", *args, "--data", str(strips / "test"), "--out", str(tmp_path / "x"))
        assert result.exit_code == 2 and needle in _one_line_error(result), result.output
        assert not (tmp_path / "x").exists()


@needs_shipped
def test_help_states_the_shipped_cell_size(reader: DigitReader) -> None:
    import re

    from v3_cli.vision import _RESIZE_RULE

    size = int(re.search(r"\((\d+)x\1 for the shipped 'digits'\)", _RESIZE_RULE).group(1))
    assert size == reader.cell_size
