"""A run folder remembers predictions and its last evaluation, from the command line as from
the app (core.runs.records), so reopening the run shows them."""
import shutil

from core.cli import main
from core.runs.records import read_evaluation, read_predictions


def test_cli_predict_and_evaluate_are_remembered_in_the_run(small_cnn_run, demo_dataset,
                                                            tmp_path, capsys):
    run = shutil.copytree(small_cnn_run, tmp_path / "run")
    picture = next((demo_dataset / "circle").iterdir())
    assert main(["predict", str(run), str(picture)]) == 0
    assert main(["evaluate", str(run), str(demo_dataset)]) == 0
    capsys.readouterr()
    assert [row["path"] for row in read_predictions(run)] == [str(picture)]
    report = read_evaluation(run)
    assert report is not None and 0 <= report["accuracy"] <= 1 and report["n"] > 0


def test_the_app_reads_back_what_the_command_line_recorded(small_cnn_run, demo_dataset,
                                                          tmp_path, capsys):
    from gui.qt_prediction_jobs import restore_run_outputs

    run = shutil.copytree(small_cnn_run, tmp_path / "run")
    picture = next((demo_dataset / "square").iterdir())
    assert main(["predict", str(run), str(picture)]) == 0
    capsys.readouterr()
    restored = restore_run_outputs(run)
    assert [r["path"] for r in restored["results"]] == [str(picture)]
    assert restored["results"][0]["label"] in ("circle", "square", "triangle")
