"""The ``sklearn-2dbm`` command line: run, train, evaluate, predict."""

import argparse
import sys
import textwrap
import traceback
import warnings
from pathlib import Path

from ._version import __version__

PROG = "sklearn-2dbm"

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

EXIT_CODES = """\
exit status:
  0  success
  1  unexpected error (a bug: the traceback is printed, please report it)
  2  usage error or bad input: unknown option or dataset, missing data
     folder, unreadable or empty CSV, a file that is not a model saved by
     sklearn-2dbm, columns that do not match the model. A one-line
     'sklearn-2dbm: error: ...' message says what is wrong; no output file
     is left half-written.
"""

RUN_EPILOG = """\
protocols:
  dedup-split   stratified split, exact duplicate flows never on both sides;
                rows in seeded random order within each side before
                windowing (the partition files have no real flow order)
  random-split  plain stratified row split, windows in file order; the
                report gives the share of test rows duplicated in training
  file-order    windows over the whole file in file order, then a split of
                windows; measures the file's label ordering, not detection

presets (overridden by --epochs, --window, --teacher-hidden, --student-hidden,
--max-rows):
{presets}

outputs in --output: teacher/student/baseline_pipeline.joblib (fitted
pipelines), teacher/student_weights.pt (weights only), report.json, report.md,
confusion_matrices.png, detection_rates.png, training_curves.png

"""


def _wrap(text):
    return textwrap.fill(text, width=79)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose error line starts with the program name only."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{PROG}: error: {message}\n")


def _preset_lines():
    from ._main_job import PRESETS

    lines = []
    for name, preset in PRESETS.items():
        rows = preset["max_rows"] or "all"
        lines.append(
            f"  {name:<8} rows={rows}, epochs={preset['epochs']}, "
            f"window={preset['window']}, teacher_hidden={preset['teacher_hidden']}, "
            f"student_hidden={preset['student_hidden']}"
        )
    return "\n".join(lines)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _add_model_options(parser):
    from ._main_job import PRESETS, TARGETS

    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="binary",
        help="attack versus normal (binary, default) or one class per attack category",
    )
    parser.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        default="default",
        help="named settings of rows, epochs, window and sizes (see below)",
    )
    parser.add_argument("--epochs", type=_positive_int, help="training epochs")
    parser.add_argument("--window", type=_positive_int, help="flows per window")
    parser.add_argument(
        "--teacher-hidden", type=_positive_int, help="teacher LSTM units per direction"
    )
    parser.add_argument(
        "--student-hidden", type=_positive_int, help="student LSTM units per direction"
    )
    parser.add_argument(
        "--max-rows",
        type=_non_negative_int,
        help="stratified, seeded subsample of this many rows (0: every row)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def build_parser():
    """Build the argument parser of the ``sklearn-2dbm`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
        Parser with the ``run``, ``train``, ``evaluate`` and ``predict``
        subcommands.

    Examples
    --------
    >>> from sklearn_2dbm._cli import build_parser
    >>> args = build_parser().parse_args(["run", "--preset", "quick"])
    >>> args.command, args.dataset, args.protocol
    ('run', 'unsw-nb15', 'dedup-split')
    """
    from ._main_job import DATASETS, LAYOUTS, PROTOCOLS

    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog=PROG,
        description=_wrap(
            "Distilled BiLSTM network intrusion detection (2DBM) with "
            "honest evaluation protocols."
        ),
        epilog=EXIT_CODES,
        formatter_class=formatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="main job: train teacher, distil student, compare with a baseline, report",
        description=_wrap(
            "Load a dataset, split it under an evaluation protocol, train "
            "the BiLSTM teacher once, distil the student from it, train a "
            "HistGradientBoosting baseline on the same split, and write pipelines, "
            "report.json, report.md and PNG figures to --output."
        ),
        epilog=RUN_EPILOG.format(presets=_preset_lines()) + EXIT_CODES,
        formatter_class=formatter,
    )
    run.add_argument(
        "--dataset", choices=DATASETS, default="unsw-nb15", help="default unsw-nb15"
    )
    run.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="dedup-split",
        help="evaluation protocol (default dedup-split, see below)",
    )
    _add_model_options(run)
    run.add_argument(
        "--output",
        type=Path,
        help="output folder (default runs/<dataset>-<protocol>-<preset>)",
    )
    run.add_argument(
        "--data-home",
        help="folder holding unsw_nb15/ and cic_ids2017/ (default: the "
        "SKLEARN_2DBM_DATA environment variable, then ~/sklearn_2dbm_data)",
    )
    run.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch threads of the networks (default 1, the fastest for these "
        "small LSTMs on a shared machine)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars")

    train = sub.add_parser(
        "train",
        help="fit a pipeline on a labelled CSV of flows and save it",
        description=_wrap(
            "Fit FlowPreprocessor -> FlowWindower -> classifier on a "
            "labelled CSV of flows (windows over the rows in file order) and save "
            "the fitted pipeline with joblib. With --model student (default) the "
            "teacher is trained first and the student distilled from it."
        ),
        epilog="presets (train uses every row unless --max-rows is given):\n"
        + _preset_lines()
        + "\n\n"
        + EXIT_CODES,
        formatter_class=formatter,
    )
    train.add_argument(
        "--input", required=True, type=Path, help="labelled CSV (.csv or .csv.gz)"
    )
    train.add_argument(
        "--output", required=True, type=Path, help="model file to write (.joblib)"
    )
    train.add_argument(
        "--dataset-layout",
        choices=LAYOUTS,
        default="auto",
        help="column layout of the CSV (default: detected from the header)",
    )
    train.add_argument(
        "--model",
        choices=("student", "teacher"),
        default="student",
        help="which network to save (default student)",
    )
    _add_model_options(train)
    train.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch threads of the networks (default 1)",
    )
    train.add_argument(
        "--shuffle-rows",
        action="store_true",
        help="put the rows in seeded random order before windowing (for files "
        "without a real flow order, e.g. the UNSW-NB15 partitions)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bars")

    evaluate = sub.add_parser(
        "evaluate",
        help="score a saved pipeline on a labelled CSV of flows",
        description=_wrap(
            "Predict every flow of a labelled CSV (windows in file "
            "order) with a saved pipeline and print accuracy, precision, recall, "
            "F1, false-positive rate and per-category detection rates."
        ),
        epilog=EXIT_CODES,
        formatter_class=formatter,
    )
    evaluate.add_argument(
        "--model", required=True, type=Path, help="saved pipeline (.joblib)"
    )
    evaluate.add_argument("--input", required=True, type=Path, help="labelled CSV")
    evaluate.add_argument(
        "--dataset-layout",
        choices=LAYOUTS,
        default="auto",
        help="column layout of the CSV",
    )
    evaluate.add_argument(
        "--report", type=Path, help="also write the metrics as JSON here"
    )

    predict = sub.add_parser(
        "predict",
        help="add predicted labels and attack probabilities to a CSV of flows",
        description=_wrap(
            "Read a CSV of flows in chunks, score them with a saved "
            "pipeline and write the CSV back with `predicted_label` and "
            "`attack_probability` columns. Each chunk is scored with the last "
            "window-1 flows of the previous one as context, so the windows are the "
            "same as in one pass; files larger than memory work."
        ),
        epilog="Only load model files you trust: joblib files can run code.\n\n"
        + EXIT_CODES,
        formatter_class=formatter,
    )
    predict.add_argument(
        "--model", required=True, type=Path, help="saved pipeline (.joblib)"
    )
    predict.add_argument(
        "--input", required=True, type=Path, help="CSV of flows to score"
    )
    predict.add_argument(
        "--output", required=True, type=Path, help="scored CSV to write"
    )
    predict.add_argument(
        "--chunksize",
        type=_non_negative_int,
        default=50_000,
        help="rows per chunk (default 50000; 0 reads the file in one pass)",
    )
    predict.add_argument(
        "--dataset-layout",
        choices=LAYOUTS,
        default="auto",
        help="column layout of the CSV",
    )
    predict.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------


def _print(*args):
    print(*args, flush=True)


def _check_output_file(path, option):
    """Reject an output path that is a folder or lies in a missing folder."""
    from ._main_job import InputError

    path = Path(path)
    if path.is_dir():
        raise InputError(f"{option} {str(path)!r} is a folder; give a file name")
    if not path.parent.is_dir():
        raise InputError(f"the folder of {option} {str(path.parent)!r} does not exist")


def _show_progress(args):
    """Progress bars only on an interactive terminal, unless --quiet."""
    return not args.quiet and sys.stderr.isatty()


def _cmd_run(args):
    from . import _report
    from ._main_job import JobConfig, run_main_job

    output = (
        args.output or Path("runs") / f"{args.dataset}-{args.protocol}-{args.preset}"
    )
    config = JobConfig(
        dataset=args.dataset,
        protocol=args.protocol,
        target=args.target,
        preset=args.preset,
        epochs=args.epochs,
        window=args.window,
        teacher_hidden=args.teacher_hidden,
        student_hidden=args.student_hidden,
        max_rows=args.max_rows,
        seed=args.seed,
        output=str(output),
        data_home=args.data_home,
        threads=args.threads,
    )
    report = run_main_job(config, progress=_show_progress(args))
    _print()
    _print(_report.format_summary_table(report))
    for warning in report["protocol"]["warnings"]:
        _print(f"WARNING: {warning}")
    for note in report["data"]["notes"]:
        _print(f"note: {note}")
    for item in report["warnings_raised"]:
        times = f" ({item['count']}x)" if item["count"] > 1 else ""
        message = item["message"]
        message = message if len(message) <= 300 else message[:297] + "..."
        print(
            f"{PROG}: warning: {item['category']}{times}: {message}",
            file=sys.stderr,
        )
    _print(f"wall time: {report['timing']['total']:.1f} s")
    _print(f"outputs written to {output}/: {', '.join(report['files'])}")
    return EXIT_OK


def _cmd_train(args):
    import numpy as np

    from . import _report
    from ._main_job import (
        InputError,
        JobConfig,
        fit_pipelines,
        load_labelled_csv,
        stratified_subsample,
    )

    settings = JobConfig(
        preset=args.preset,
        target=args.target,
        epochs=args.epochs,
        window=args.window,
        teacher_hidden=args.teacher_hidden,
        student_hidden=args.student_hidden,
        # train uses every row of its input unless told otherwise.
        max_rows=0 if args.max_rows is None else args.max_rows,
        seed=args.seed,
        threads=args.threads,
    ).resolved()
    _check_output_file(args.output, "--output")
    flows = load_labelled_csv(
        args.input, layout=args.dataset_layout, target=args.target
    )
    keep = stratified_subsample(
        len(flows["X"]),
        flows["categories"],
        settings["max_rows"],
        random_state=args.seed,
    )
    if args.shuffle_rows:
        keep = np.random.default_rng(args.seed).permutation(keep)
    X = flows["X"].iloc[keep].reset_index(drop=True)
    y = flows["y"][keep]
    if len(np.unique(y)) < 2:
        raise InputError(
            f"{args.input.name}: the labels hold a single class; need two or more"
        )
    which = ("teacher", "student") if args.model == "student" else ("teacher",)
    pipelines, fit_seconds = fit_pipelines(
        X, y, settings=settings, progress=_show_progress(args), which=which
    )
    pipeline = pipelines[args.model]
    n_bytes = _report.atomic_dump_joblib(pipeline, args.output)
    _print(
        f"trained {args.model} on {len(X):,} flows of {args.input.name} "
        f"({flows['layout']}, target={args.target}) in "
        f"{sum(fit_seconds.values()):.1f} s; "
        f"{getattr(pipeline[-1], 'n_parameters_', 'n/a')} parameters"
    )
    _print(f"saved {args.output} ({n_bytes / 1024:,.0f} KiB)")
    return EXIT_OK


def _cmd_evaluate(args):
    from . import _report
    from ._main_job import (
        evaluate_pipeline,
        load_labelled_csv,
        load_model,
    )

    model = load_model(args.model)
    if args.report is not None:
        _check_output_file(args.report, "--report")
    flows = load_labelled_csv(args.input, layout=args.dataset_layout, target="category")
    metrics = evaluate_pipeline(model, flows)
    protocol = "as given: windows over the file's rows in file order"
    result = {
        "tool": PROG,
        "version": __version__,
        "command": "evaluate",
        "model": str(args.model),
        "input": str(args.input),
        "layout": flows["layout"],
        "protocol": protocol,
        "metrics": {**metrics, "protocol": protocol},
    }
    _print(f"{args.input.name}: {metrics['n_test']:,} flows ({protocol})")
    for key in (
        "accuracy",
        "precision",
        "recall",
        "f1",
        "false_positive_rate",
        "macro_f1",
    ):
        if key in metrics:
            _print(f"  {key:<20} {100 * metrics[key]:6.2f}%")
    _print("  detection rate by category:")
    for category, rate in metrics["detection_rate_by_category"].items():
        suffix = " (false alarms)" if category == metrics["normal_category"] else ""
        _print(f"    {category + suffix:<32} {100 * rate:6.2f}%")
    for warning in metrics["warnings"]:
        _print(f"WARNING: {warning}")
    if args.report is not None:
        _report.atomic_write_json(args.report, result)
        _print(f"report written to {args.report}")
    return EXIT_OK


def _cmd_predict(args):
    from ._main_job import InputError, load_model, predict_csv

    model = load_model(args.model)
    _check_output_file(args.output, "--output")
    if Path(args.output).resolve() == Path(args.input).resolve():
        raise InputError("--output must differ from --input")
    summary = predict_csv(
        model,
        args.input,
        args.output,
        chunksize=args.chunksize,
        layout=args.dataset_layout,
        progress=_show_progress(args),
    )
    _print(
        f"scored {summary['n_rows']:,} flows in {summary['n_chunks']} chunk(s); "
        f"{summary['n_predicted_attacks']:,} predicted attacks; wrote {args.output}"
    )
    return EXIT_OK


COMMANDS = {
    "run": _cmd_run,
    "train": _cmd_train,
    "evaluate": _cmd_evaluate,
    "predict": _cmd_predict,
}


def _one_line(message):
    return " ".join(str(message).split())


def main(argv=None):
    """Run the ``sklearn-2dbm`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    status : int
        0 on success, 2 for usage errors and bad input (with a one-line
        ``sklearn-2dbm: error: ...`` message on stderr), 1 for unexpected
        errors (with the traceback).

    Examples
    --------
    >>> from sklearn_2dbm._cli import main
    >>> main(["run", "--dataset", "kdd99"])  # doctest: +SKIP
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    from ._main_job import InputError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        try:
            status = COMMANDS[args.command](args)
        except InputError as exc:
            _report_warnings(caught)
            print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr, flush=True)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=sys.stderr, flush=True)
            return 130
        except Exception as exc:  # noqa: BLE001 - the last resort: report the bug
            traceback.print_exc(file=sys.stderr)
            print(
                f"{PROG}: unexpected error: {type(exc).__name__}: {_one_line(exc)}",
                file=sys.stderr,
                flush=True,
            )
            return EXIT_ERROR
    _report_warnings(caught)
    return status


def _report_warnings(caught):
    seen = set()
    for item in caught:
        text = f"{item.category.__name__}: {_one_line(item.message)}"
        if text in seen:
            continue
        seen.add(text)
        print(f"{PROG}: warning: {text}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
