"""The evaluation command: tuned unsharp mask, teacher and students (ONNX through the core, checkpoints)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from kdsharp import Sharpener
from kdsharp_train.cli import main
from kdsharp_train.suite import suite_degrade
from kdsharp_train.evaluate import paired_difference
from kdsharp_train.train import train
from kdsharp_train.unsharp import AMOUNTS, SIGMAS, UnsharpParams, best_setting, grid_scores, unsharp


def test_unsharp_tuning_picks_sharpening_for_blur_and_identity_is_possible() -> None:
    g = torch.Generator().manual_seed(0)
    sharp = torch.nn.functional.interpolate(torch.rand(1, 3, 16, 16, generator=g), size=(64, 64), mode="nearest")[0]
    blurred = suite_degrade(sharp, "gauss_s1.0")
    params, p = best_setting(grid_scores([(blurred, sharp)]))
    assert params.amount > 0
    assert torch.equal(unsharp(sharp, UnsharpParams(1.0, 0.0)), sharp)


def test_one_setting_is_the_grid_point_best_over_all_degradations() -> None:
    g = torch.Generator().manual_seed(0)
    sharp = torch.nn.functional.interpolate(torch.rand(1, 3, 16, 16, generator=g), size=(48, 48), mode="nearest")[0]
    per = {name: grid_scores([(suite_degrade(sharp, name), sharp)], sigmas=(0.5, 1.0), amounts=(0.0, 1.0, 4.0))
           for name in ("gauss_s1.0", "noise_blur")}
    mean = {prm: (per["gauss_s1.0"][prm] + per["noise_blur"][prm]) / 2 for prm in per["gauss_s1.0"]}
    assert len(mean) == 5  # the identity once, then 2 sigmas × 2 amounts
    # blur alone wants sharpening, noise on top wants less: one setting for both cannot please both
    blur, noise = best_setting(per["gauss_s1.0"])[0], best_setting(per["noise_blur"])[0]
    assert blur.amount > noise.amount
    one, score = best_setting(mean)
    assert per["gauss_s1.0"][one] <= per["gauss_s1.0"][blur] and per["noise_blur"][one] <= per["noise_blur"][noise]
    assert score == max(mean.values())
    # ties go to the first setting in grid order (the identity comes first)
    assert best_setting(dict.fromkeys(mean, 1.0))[0] == UnsharpParams(0.5, 0.0)


def test_evaluate_writes_table_crops_and_plot(tiny_config, photo_dirs, tmp_path: Path, capsys) -> None:
    teacher = train(tiny_config(tmp_path / "t", "teacher", "nafnet", steps=1, val_every=1))
    student = train(tiny_config(tmp_path / "s", steps=1, val_every=1))
    onnx_path = tmp_path / "student.onnx"
    assert main(["export", str(student), "--out", str(onnx_path)]) == 0
    out = tmp_path / "eval"
    code = main([
        "evaluate", "--data", str(photo_dirs[1]), "--tune", str(photo_dirs[0]), "--out", str(out),
        "--teacher", str(teacher), "--students", str(onnx_path), str(student),
        "--degradations", "gauss_s2.0", "down_2x", "clean", "--max-side", "64", "--threads", "1",
    ])
    assert code == 0
    md = (out / "results.md").read_text()
    # clean is scored apart (not in the mean), and every row has its robustness line
    assert "| method | worst case | Δ vs input there | cases below input | clean PSNR |" in md
    assert "| case | input | unsharp (tuned) | unsharp (one setting) | Polyblur (blind, one setting) | teacher: t/best.json |" in md
    res = json.loads((out / "results.json").read_text())
    for m in res["methods"]:
        per = m["per"]
        assert abs(m["mean"]["psnr"] - (per["gauss_s2.0"]["psnr"] + per["down_2x"]["psnr"]) / 2) < 1e-9
        assert m["clean_psnr"] == per["clean"]["psnr"]
        r = m["robustness"]
        inp = next(x for x in res["methods"] if x["name"] == "input")
        gaps = {d: per[d]["psnr"] - inp["per"][d]["psnr"] for d in ("gauss_s2.0", "down_2x")}
        assert r["worst_delta_db"] == min(gaps.values()) and r["worst_case"] in gaps
        assert set(m["families"]) == {"blur", "resize"}
    assert res["polyblur"]["n_iter"] in (1, 2)
    for row in ("| input |", "| unsharp (tuned) |", "| unsharp (one setting) |", "| Polyblur (blind, one setting) |", "| teacher: t/best.json |",
                "| student: student.onnx |", "| student: s/best.json |"):
        assert row in md
    res = json.loads((out / "results.json").read_text())
    assert {m["name"] for m in res["methods"]} >= {"input", "unsharp (tuned)", "unsharp (one setting)"}
    # the one setting is a grid setting, and the report names it
    one = res["usm_one_setting"]
    assert one["sigma"] in SIGMAS and one["amount"] in AMOUNTS
    assert f"Unsharp mask, one setting: σ={one['sigma']}, amount={one['amount']}" in md
    assert all(m["ms_1080p"] is not None and m["ms_1080p"] >= 0 for m in res["methods"])
    assert all(m["gflops_1080p"] > 0 for m in res["methods"] if m["name"].startswith(("teacher", "student")))
    usm = next(m for m in res["methods"] if m["name"] == "unsharp (tuned)")
    for m in res["methods"]:  # the per-photo scores behind every mean (for kdsharp-train compare)
        assert all(abs(np.mean(m["psnr_per_photo"][d]) - m["per"][d]["psnr"]) < 1e-9 for d in ("gauss_s2.0", "down_2x"))
    inp = next(m for m in res["methods"] if m["name"] == "input")
    assert usm["mean"]["psnr"] >= inp["mean"]["psnr"]  # tuning can always fall back to identity-ish
    assert (out / "crops" / "gauss_s2.0.png").exists() and (out / "quality_speed.png").exists()

    # the exported model can carry its evaluation row (the model card's numbers)
    carded = tmp_path / "carded.onnx"
    assert main(["export", str(student), "--out", str(carded), "--evaluation", str(out / "results.json")]) == 0
    evaluation = Sharpener(carded).info.metrics["evaluation"]
    row = next(m for m in res["methods"] if m["name"] == "student: s/best.json")
    assert evaluation["mean_psnr"] == round(row["mean"]["psnr"], 3)
    assert evaluation["delta_vs_usm_db"] == round(row["mean"]["psnr"] - usm["mean"]["psnr"], 3)
    assert set(evaluation["psnr"]) == {"gauss_s2.0", "down_2x", "clean"} and "delta_vs_teacher_db" in evaluation
    assert evaluation["worst_vs_input_db"] == round(row["robustness"]["worst_delta_db"], 3)
    capsys.readouterr()
    assert main(["export", str(student), "--out", str(carded), "--evaluation", str(out / "results.json"),
                 "--evaluation-method", "student: nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no method 'student: nope'" in err[0]
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["export", str(student), "--out", str(tmp_path / "never.onnx"), "--evaluation", str(broken)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{broken}: not a results.json of kdsharp-train evaluate" in err[0]
    assert not (tmp_path / "never.onnx").exists()


def test_evaluate_unknown_degradation_is_one_line(photo_dirs, tmp_path: Path, capsys) -> None:
    code = main(["evaluate", "--data", str(photo_dirs[1]), "--tune", str(photo_dirs[0]), "--out", str(tmp_path),
                 "--degradations", "nope", "--no-speed"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "unknown degradation 'nope'" in err[0]


def test_baselines_from_reuses_the_tuning_and_refuses_other_settings(photo_dirs, tmp_path: Path, capsys) -> None:
    # The tuning is deterministic: reusing it gives the very rows tuning again gives; other settings or
    # changed photos are refused in one line, before anything is written.
    common = ["evaluate", "--data", str(photo_dirs[1]), "--degradations", "gauss_s2.0", "clean",
              "--max-side", "48", "--threads", "1", "--no-speed"]
    tune = tmp_path / "tune"
    tune.mkdir()
    for photo in sorted(photo_dirs[0].iterdir()):
        (tune / photo.name).write_bytes(photo.read_bytes())
    assert main([*common, "--tune", str(tune), "--out", str(tmp_path / "first")]) == 0
    first = tmp_path / "first" / "results.json"
    assert main([*common, "--tune", str(tune), "--out", str(tmp_path / "again"), "--baselines-from", str(first)]) == 0
    a, b = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("first", "again"))
    assert a["tune_fingerprint"] == b["tune_fingerprint"] and (a["usm"], a["polyblur"]) == (b["usm"], b["polyblur"])
    rows = {m["name"]: m["psnr_per_photo"] for m in a["methods"]}
    assert rows == {m["name"]: m["psnr_per_photo"] for m in b["methods"]}
    assert f"tuned by `{first}`" in (tmp_path / "again" / "results.md").read_text()
    capsys.readouterr()
    refusals = [
        (["--degradations", "gauss_s2.0"], "tuned with degradations="),
        (["--tune", str(photo_dirs[0])], "tuned with tune="),
    ]
    for extra, words in refusals:
        assert main([*common, "--tune", str(tune), *extra, "--out", str(tmp_path / "no"), "--baselines-from", str(first)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
    next(tune.iterdir()).write_bytes(b"")  # a tuning photo changed since
    assert main([*common, "--tune", str(tune), "--out", str(tmp_path / "no"), "--baselines-from", str(first)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "changed since it was tuned" in err[0]
    assert main([*common, "--tune", str(tune), "--out", str(tmp_path / "no"), "--baselines-from", str(tmp_path / "none.json")]) == 2
    assert "not the results.json of an evaluation" in capsys.readouterr().err
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(dict(a, config="not a mapping")))
    assert main([*common, "--tune", str(tune), "--out", str(tmp_path / "no"), "--baselines-from", str(odd)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "its config is a str" in err[0], err
    assert not (tmp_path / "no").exists()


def _results(tmp_path: Path, rows: dict[str, dict[str, list[float]]]) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"methods": [{"name": n, "psnr_per_photo": per} for n, per in rows.items()]}))
    return path


def test_paired_difference_weighs_every_degradation_alike(tmp_path: Path, capsys) -> None:
    # degradation "x" has 2 photos, "y" has 4: A is 1 dB better on x, 0.5 dB worse on y
    path = _results(tmp_path, {
        "A": {"x": [31.0, 33.0], "y": [29.5, 29.5, 29.5, 29.5]},
        "B": {"x": [30.0, 32.0], "y": [30.0, 30.0, 30.0, 30.0]},
    })
    d = paired_difference(path, "A", "B")
    assert d.cases == 6 and d.wins == 2
    assert abs(d.mean_db - 0.25) < 1e-9  # (1 - 0.5) / 2, as the rows' means would differ
    assert d.low_db <= d.mean_db <= d.high_db and d.low_db < 0 < d.high_db
    assert paired_difference(path, "A", "B") == d  # seeded
    assert main(["compare", str(path), "A", "B"]) == 0
    assert capsys.readouterr().out.startswith("A − B: +0.250 dB mean PSNR over 6 (photo, degradation) cases")


def test_a_consistent_gain_has_an_interval_above_zero(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    base = {d: list(rng.normal(30, 2, 11)) for d in "abcdefgh"}
    better = {d: [v + 0.1 + rng.normal(0, 0.05) for v in vals] for d, vals in base.items()}
    d = paired_difference(_results(tmp_path, {"kd": better, "ctl": base}), "kd", "ctl")
    assert d.cases == 88 and d.wins >= 80 and 0.05 < d.low_db < d.mean_db < d.high_db < 0.15


def test_compare_errors_are_one_line(tmp_path: Path, capsys) -> None:
    path = _results(tmp_path, {"A": {"x": [1.0]}})
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"methods": [{"name": "A", "per": {}}, {"name": "B", "per": {}}]}))
    uneven = tmp_path / "uneven"
    uneven.mkdir()
    uneven = _results(uneven, {"A": {"x": [1.0, 2.0]}, "B": {"x": [1.0]}})
    empty = tmp_path / "empty"
    empty.mkdir()
    empty = _results(empty, {"A": {}, "B": {}})
    for args, named in (([str(path), "A", "C"], "has no row 'C'"), ([str(bad), "A", "B"], "not a results.json"),
                        ([str(tmp_path / "none.json"), "A", "B"], "not a results.json"),
                        ([str(uneven), "A", "B"], "rows 'A' and 'B' do not hold the same photos of 'x' (2 and 1)"),
                        ([str(empty), "A", "B"], "no per-photo scores to compare"),
                        ([str(old), "A", "B"], "row 'A' has no per-photo scores")):
        assert main(["compare", *args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("kdsharp-train compare: error:") and named in err[0]
