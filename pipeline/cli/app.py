"""`csi`: the command line of the centre's staff.

Heavy libraries (polars, duckdb, prefect…) are imported inside the commands so that
`csi --help` answers at once.

The CLI is the edge: each command reads the environment once (`_settings`: the
`Settings` of `pipeline.core.settings`, an unusable variable refused in French with
exit 1) and hands it down. `main(hooks)` lets a test entry module install its
`Hooks` (fault points); the product's are no-ops.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, cast

import typer

from pipeline.cli.french import speak_french
from pipeline.cli.interrupted import INTERRUPTED, stop_interrupted
from pipeline.orchestrate.schedule import MONTHLY_CRON

speak_french()

if TYPE_CHECKING:
    from uuid import UUID

    from prefect.deployments.runner import RunnerDeployment
    from rich.console import Console

    from pipeline.core.errors import InputError
    from pipeline.core.settings import Hooks, Settings
    from pipeline.extract.profile_check import FileCheck
    from pipeline.report.verify import MissingInputs

app = typer.Typer(
    name="csi",
    help=(
        "Rapport d'activité annuel (annexe 3) d'un centre de santé infirmier, à partir des "
        "exports de facturation et de soins. L'entrepôt est un fichier DuckDB : "
        "data/warehouse.duckdb par défaut (option --db ou variable CSI_DB)."
    ),
    no_args_is_help=True,
    add_completion=False,
    subcommand_metavar="COMMANDE [ARGUMENTS]...",
    rich_markup_mode="rich",
)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Fichier de l'entrepôt DuckDB (défaut : la variable CSI_DB, sinon "
        "data/warehouse.duckdb).",
        show_default=False,
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="Profil d'import : nom d'un profil fourni (canonical, …) ou chemin d'un fichier "
        "YAML décrivant l'export de votre logiciel.",
    ),
]
YearOption = Annotated[int, typer.Option("--year", help="Année civile du rapport (AAAA).")]
OutOption = Annotated[
    Path, typer.Option("--out", help="Dossier où écrire les rapports (un sous-dossier par centre).")
]
FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        help="Formats séparés par des virgules : json (données), html (page web), pdf "
        "(document A4 à envoyer à la CPAM), xlsx (classeur, une feuille par section).",
    ),
]
DEFAULT_FORMATS = "json,html,pdf,xlsx"
FEDERATION_FIGURES = 5  # figures of each centre's line when many centres are reported


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _formats(text: str) -> tuple[str, ...]:
    from pipeline.render.write import FORMATS

    chosen = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        _fail(
            f"Format inconnu : {', '.join(unknown) or '(aucun)'}. Formats : {', '.join(FORMATS)}."
        )
    return chosen


def _print_summary(console: Console, report: dict) -> None:
    """A few figures of one report, to check at a glance before sending it."""
    from rich.table import Table

    from pipeline.core import labels
    from pipeline.render.write import summary_rows

    m, py = report["meta"], report.get("previous_year")
    console.print(
        f"\n[bold]{m['centre_name'] or 'Centre'}[/] · {m['year']} · FINESS {m['centre_finess']}",
        soft_wrap=True,
    )
    table = Table()
    table.add_column("")
    table.add_column(str(m["year"]), justify="right")
    if py:
        table.add_column(str(py["year"]), justify="right", style="dim")
        table.add_column("Évolution", justify="right")
    for label, value, before, change in summary_rows(report):
        table.add_row(label, value, *((before, change) if py else ()))
    console.print(table)
    if not py:
        console.print(f"[dim]{labels.YOY['none']}[/]")


def _written_reports(paths: list[str]) -> list[dict]:
    """The reports a flow wrote, read back from their JSON files (for the summaries)."""
    return [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths if p.endswith(".json")]


def _print_federation(console: Console, reports: list[dict]) -> None:
    """One line per centre: with hundreds of centres, a summary each would fill screens."""
    from rich.table import Table

    from pipeline.render.write import summary_rows

    rows = [summary_rows(report)[:FEDERATION_FIGURES] for report in reports]
    table = Table(title=f"{len(reports)} centres · {reports[0]['meta']['year']}")
    table.add_column("FINESS")
    table.add_column("Centre")
    for label, *_ in rows[0]:
        table.add_column(label, justify="right")
    for report, figures in zip(reports, rows, strict=True):
        meta = report["meta"]
        values = [value for _, value, *_ in figures]
        table.add_row(meta["centre_finess"], meta["centre_name"] or "", *values)
    console.print(table)


def _print_reports(
    console: Console, reports: list[dict], paths: Sequence[str | Path], started: float | None
) -> None:
    """A summary per centre and every file written; for many centres, a table and a count."""
    if len(reports) <= 3:
        for report in reports:
            _print_summary(console, report)
        _print_written(console, paths, started)
        return
    _print_federation(console, reports)
    folders = sorted({str(Path(p).parent.parent.parent) for p in paths})
    console.print(
        f"Écrit : {len(paths)} fichiers, un dossier par centre sous {', '.join(folders)}",
        markup=False,
        soft_wrap=True,
    )
    _print_written(console, [], started)


def _print_written(
    console: Console, paths: Sequence[str | Path], started: float | None = None
) -> None:
    import time

    for path in paths:
        console.print(f"Écrit : {path}", markup=False, soft_wrap=True)
    if started is not None:
        seconds = f"{time.perf_counter() - started:.1f}".replace(".", ",")  # French decimals
        console.print(f"[dim]Terminé en {seconds} s.[/]")


def _fail(message: str, code: int = 2) -> NoReturn:
    _console(stderr=True).print(f"[bold red]Erreur :[/] {message}")
    raise typer.Exit(code)


def _settings(ctx: typer.Context) -> Settings:
    """The environment's settings, read once by the command; an unusable one stops it here.

    `ctx.obj` holds the `Hooks` a test entry module gave `main` (none in the product).
    """
    from pipeline.core.settings import Hooks, Settings, SettingsError

    hooks = ctx.obj if isinstance(ctx.obj, Hooks) else None
    try:
        return Settings.from_environ(hooks=hooks)
    except SettingsError as error:
        _fail(str(error), code=1)


def _refuse(error: InputError, extract_dir: Path, db: Path | None, settings: Settings) -> NoReturn:
    """Print why the extract was refused (as Prefect's logs do, `steps.refusal_lines`).

    The rejection folder is written here, unless the flow's task wrote it already.
    """
    from pipeline.orchestrate.steps import refusal_lines, write_rejection

    folder = getattr(error, "rejection_folder", None) or write_rejection(
        error, extract_dir, db, settings=settings
    )
    console = _console(stderr=True)
    first, *rest = refusal_lines(error, folder)
    console.print(f"[bold red]{first}[/]")
    for line in rest:
        console.print(line, markup=False)
    raise typer.Exit(1)


@app.command()
def ingest(
    ctx: typer.Context,
    extract_dir: Annotated[
        Path,
        typer.Argument(
            help="Dossier de l'extraction (billing*, patients*, episodes*, centre*.yaml).",
            metavar="DOSSIER",
        ),
    ],
    db: DbOption = None,
    profile: ProfileOption = None,
) -> None:
    """Valider puis charger une extraction dans l'entrepôt (tout ou rien).

    Une extraction qui répète des lignes déjà chargées les remplace (la plus récente
    l'emporte) ; recharger la même extraction ne change rien.
    """
    from pipeline.core.errors import InputError, UsageError
    from pipeline.orchestrate.steps import ingest as run_ingest

    settings = _settings(ctx)
    try:
        summary = run_ingest(extract_dir, db, profile, settings=settings)
    except InputError as error:
        _refuse(error, extract_dir, db, settings)
    except UsageError as error:
        _fail(str(error), code=1)
    if summary.rows_read or not summary.registers:
        _console().print(
            f"Chargement n° {summary.load_id} : {summary.rows_read} lignes lues, "
            f"{summary.rows_inserted} ajoutées, {summary.rows_replaced} remplacées, "
            f"{summary.rows_unchanged} inchangées."
        )
    for finess, year, source in summary.registers:
        _console().print(
            f"Chargement n° {summary.load_id} : registre du centre {finess} pour {year} "
            f"chargé ({source}).",
            markup=False,
            soft_wrap=True,
        )


@app.command()
def report(
    ctx: typer.Context,
    year: YearOption,
    centre: Annotated[
        str | None,
        typer.Option(
            "--centre", help="FINESS du centre (défaut : tous les centres de l'entrepôt)."
        ),
    ] = None,
    db: DbOption = None,
    out: OutOption = Path("reports"),
    format: FormatOption = DEFAULT_FORMATS,
    as_of: Annotated[
        int | None,
        typer.Option(
            "--as-of",
            help="Numéro de chargement : régénérer le rapport tel que l'entrepôt était "
            "juste après ce chargement (numéros : csi loads).",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="Groupes de centres calculés en parallèle (défaut : un par cœur).",
            show_default=False,
        ),
    ] = None,
    runner: Annotated[
        str,
        typer.Option(
            "--runner",
            help="direct (le plus rapide), prefect (flux Prefect, tâches en parallèle "
            "sur cette machine) ou dask (flux Prefect sur une grappe Dask : locale, "
            "ou celle de --dask-address).",
        ),
    ] = "direct",
    dask_address: Annotated[
        str | None,
        typer.Option(
            "--dask-address",
            help="Ordonnanceur Dask (tcp://hôte:8786) ; implique --runner dask. Les "
            "machines de la grappe doivent voir l'entrepôt et --out aux mêmes chemins.",
        ),
    ] = None,
) -> None:
    """Écrire le rapport annuel : DOSSIER/<finess>/<année>/annexe3.json, .html, .pdf, .xlsx"""
    import time

    from pipeline.core.errors import UsageError
    from pipeline.orchestrate.steps import report as run_report

    formats, started = _formats(format), time.perf_counter()
    reports: list[dict[str, Any]] = []
    settings = _settings(ctx)
    runner = "dask" if dask_address else runner.strip().lower()
    if runner not in ("direct", "prefect", "dask"):
        _fail(f"Exécuteur inconnu : {runner}. Choix : direct, prefect, dask.")
    if runner != "direct":
        if as_of is not None:
            _fail("--as-of ne s'utilise qu'avec --runner direct.")
        written = _report_through_prefect(
            runner, dask_address, workers, year, centre, db, out, formats, settings
        )
        _print_reports(_console(), _written_reports(written), written, started)
        return
    console = _console()
    try:
        with _console(stderr=True).status("Ouverture de l'entrepôt…") as status:
            paths = run_report(
                year,
                centre,
                db,
                out,
                formats,
                as_of,
                progress=status.update,
                on_report=reports.append,
                workers=workers,
                settings=settings,
            )
    except UsageError as error:
        _fail(str(error))
    _print_reports(console, reports, paths, started)


def _report_through_prefect(
    runner: str,
    address: str | None,
    workers: int | None,
    year: int,
    centre: str | None,
    db: Path | None,
    out: Path,
    formats: tuple[str, ...],
    settings: Settings,
) -> list[str]:
    """The annual report flow on Prefect's thread pool or on a Dask cluster."""
    from pipeline.core.errors import UsageError
    from pipeline.core.settings import prepare_prefect
    from pipeline.orchestrate.steps import report_plan

    try:  # refused before the flow starts: Prefect would log the refusal as a traceback
        report_plan(year, centre, db, settings=settings)
    except UsageError as error:
        _fail(str(error))
    workers = workers or settings.report_workers
    prepare_prefect()
    try:
        from pipeline.orchestrate.flows import dask_report_flow, threads_report_flow

        if runner == "dask":
            flow = dask_report_flow(address, workers)
        else:
            flow = threads_report_flow(workers)
        return flow(year, centre, str(db) if db else None, str(out), formats)
    except ImportError as error:  # the cluster is an extra ("\[": a bracket, for rich)
        _fail(
            f"Exécuteur {runner} indisponible ({error.name} manquant) : "
            "pip install 'csi\\[cluster]'"
        )
    except UsageError as error:
        _fail(str(error))
    except RuntimeError as error:  # e.g. Prefect's temporary server did not start
        _prefect_failed(error, f"Exécution par {runner}", code=2)


def _prefect_failed(error: RuntimeError, what: str, code: int) -> NoReturn:
    """Prefect could not run the flow (its server unreachable, its temporary server not
    started): said in French, with what to do when PREFECT_API_URL names a server.

    An interruption met inside a DuckDB statement is a RuntimeError too: it goes on to
    `main`, which ends it with code 130.
    """
    from prefect.settings import PREFECT_API_URL

    from pipeline.warehouse.database import interrupted

    if interrupted(error):
        raise error
    message = (
        f"{what} impossible : Prefect n'a pas pu exécuter le flux ({' '.join(str(error).split())})."
    )
    if url := PREFECT_API_URL.value():
        message += (
            f" Le serveur Prefect {url} (PREFECT_API_URL) doit être démarré (« prefect server "
            "start ») ; sans PREFECT_API_URL, csi démarre son propre serveur temporaire."
        )
    _fail(message, code=code)


@app.command()
def run(
    ctx: typer.Context,
    extract_dir: Annotated[
        Path, typer.Argument(help="Dossier de l'extraction à charger.", metavar="DOSSIER")
    ],
    year: YearOption,
    db: DbOption = None,
    profile: ProfileOption = None,
    out: OutOption = Path("reports"),
    format: FormatOption = DEFAULT_FORMATS,
) -> None:
    """Charger l'extraction puis produire le rapport, en un seul flux Prefect."""
    import time

    from pipeline.core.errors import InputError, UsageError
    from pipeline.core.settings import prepare_prefect

    formats, started = _formats(format), time.perf_counter()
    settings = _settings(ctx)  # refused here, before Prefect starts, if unusable
    prepare_prefect()
    try:
        from pipeline.orchestrate.flows import load_message, threads_monthly_flow

        with _expected_errors_off_the_terminal():
            result = threads_monthly_flow(settings.report_workers)(
                str(extract_dir), year, str(db) if db else None, profile, str(out), formats
            )
    except InputError as error:
        _refuse(error, extract_dir, db, settings)
    except UsageError as error:
        _fail(str(error), code=1)
    except RuntimeError as error:
        _prefect_failed(error, "Chargement et rapport", code=1)
    _console().print(load_message(result["load"], str(extract_dir)), markup=False)
    _print_reports(_console(), _written_reports(result["reports"]), result["reports"], started)


@contextlib.contextmanager
def _expected_errors_off_the_terminal() -> Iterator[None]:
    """While `csi run` runs its flow, Prefect's console does not print expected errors.

    The flow logs a refusal once, in French (`flows.ExpectedErrorFilter` marks the
    record); `csi run` prints that very message itself, as `csi ingest` does, so the
    console would say it twice. The records still reach Prefect's API.
    """
    import logging

    def keep(record: logging.LogRecord) -> bool:
        return not getattr(record, "csi_expected", False)

    root = logging.getLogger()
    consoles = [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
    for handler in consoles:
        handler.addFilter(keep)
    try:
        yield
    finally:
        for handler in consoles:
            handler.removeFilter(keep)


@app.command()
def serve(
    ctx: typer.Context,
    extract_dir: Annotated[
        Path,
        typer.Argument(
            help="Dossier où le logiciel dépose l'extraction du mois.", metavar="DOSSIER"
        ),
    ],
    db: DbOption = None,
    profile: ProfileOption = None,
    out: OutOption = Path("reports"),
    cron: Annotated[
        str,
        typer.Option(
            help="Planification cron, à l'heure de Paris (0 6 1 * * : le 1er du mois à 6 h)."
        ),
    ] = MONTHLY_CRON,
) -> None:
    """Enregistrer le traitement mensuel (le 1er du mois) auprès d'un serveur Prefect.

    Pour les centres qui font tourner un serveur Prefect ou Prefect Cloud
    (PREFECT_API_URL) ; la commande reste active et exécute les traitements planifiés.
    Chaque traitement rend compte de l'année du mois écoulé (le 1er janvier : l'année
    précédente). Voir docs/planification.md.
    """
    from pipeline.core.settings import prepare_prefect

    settings = _settings(ctx)
    # The runs' own lines (load, report written) are INFO: show them in the UI and the
    # service's journal, unless the user chose a level.
    prepare_prefect(logging_level="INFO")
    from prefect import serve as prefect_serve
    from prefect.settings import PREFECT_API_URL

    from pipeline.orchestrate.schedule import monthly_deployment

    if not PREFECT_API_URL.value():
        _console(stderr=True).print(
            "[bold yellow]Attention :[/] PREFECT_API_URL n'est pas défini : le planning vivra "
            "dans un serveur Prefect temporaire, perdu à l'arrêt de la commande. Démarrez "
            "« prefect server start » et définissez PREFECT_API_URL (docs/planification.md)."
        )

    deployment = monthly_deployment(  # CSI_DB made absolute too: runs start elsewhere
        extract_dir, db or settings.db, profile, out, cron, workers=settings.report_workers
    )
    import httpx

    try:
        if PREFECT_API_URL.value():  # a temporary server has no past to catch up on
            _catch_up(deployment, cron)
        prefect_serve(deployment)
    except httpx.HTTPError as error:  # the server is down, or refuses the deployment
        _fail(
            f"Le serveur Prefect {PREFECT_API_URL.value()} ne répond pas comme prévu "
            f"({' '.join(str(error).split()) or type(error).__name__}). Démarrez-le "
            "(« prefect server start ») ou corrigez PREFECT_API_URL, puis relancez csi serve "
            "(docs/planification.md).",
            code=1,
        )


def _catch_up(deployment: RunnerDeployment, cron: str) -> None:
    """Register the deployment, then plan the run its schedule missed while `csi serve`
    was stopped (`schedule.catch_up`), saying so."""
    from pipeline.orchestrate.schedule import catch_up
    from pipeline.render.formatting import french_datetime

    # Called outside an event loop, Prefect's dispatching method returns the id itself.
    missed = catch_up(cast("UUID", deployment.apply()), cron)
    if missed is not None:
        _console().print(
            f"Le traitement prévu le {french_datetime(missed.isoformat())} n'a pas eu lieu "
            "(machine éteinte ou service arrêté) : il est lancé maintenant.",
            markup=False,
        )


@app.command()
def verify(
    ctx: typer.Context,
    report_json: Annotated[
        Path, typer.Argument(help="Le fichier annexe3.json à vérifier.", metavar="RAPPORT_JSON")
    ],
    db: DbOption = None,
) -> None:
    """Recalculer un rapport JSON depuis l'entrepôt et dire s'il est toujours exact.

    Le rapport est recalculé tel que l'entrepôt était après le chargement qu'il cite
    (meta.as_of_load) : les chargements postérieurs ne changent pas le verdict.
    """
    from pipeline.core.errors import UsageError
    from pipeline.orchestrate.steps import verify as run_verify
    from pipeline.report.verify import MissingInputs

    console = _console()

    def found(count: int) -> None:
        console.print(
            f"Fichiers sources : les {count} fichier(s) cité(s) par le rapport sont dans "
            "l'entrepôt (mêmes noms, mêmes SHA-256).",
            soft_wrap=True,
        )

    try:
        diffs = run_verify(report_json, db, on_inputs=found, settings=_settings(ctx))
    except MissingInputs as error:
        _print_missing_inputs(error)
    except UsageError as error:
        _fail(str(error))
    if not diffs:
        console.print("[green]Conforme[/] : tous les chiffres sont retrouvés à l'identique.")
        return
    console.print(f"[red]Différences[/] ({len(diffs)}) — attendu → recalculé :")
    for line in diffs[:100]:
        console.print(f"  {line}", markup=False)
    raise typer.Exit(1)


def _print_missing_inputs(error: MissingInputs) -> None:
    """The input files the report cites and this warehouse lacks, then exit 1 (no diff)."""
    console = _console(stderr=True)
    console.print(f"[bold red]Entrepôt différent :[/] {error}", soft_wrap=True)
    console.print("Fichiers absents de l'entrepôt (nom, SHA-256) :")
    for item in error.missing:
        console.print(f"  • {item.get('file')}  {item.get('sha256')}", markup=False, soft_wrap=True)
    console.print(
        "Vérifiez le rapport avec l'entrepôt qui l'a produit (--db), ou chargez ces fichiers.",
        soft_wrap=True,
    )
    raise typer.Exit(1)


@app.command()
def snapshot(
    ctx: typer.Context,
    destination: Annotated[
        Path, typer.Argument(help="Fichier DuckDB à créer (la copie).", metavar="COPIE")
    ],
    db: DbOption = None,
) -> None:
    """Copier l'entrepôt dans un autre fichier, pour l'analyser sans gêner les chargements.

    La copie est cohérente (prise entre deux chargements) et contient tables et vues.
    """
    from pipeline.core.errors import UsageError
    from pipeline.orchestrate.steps import snapshot as run_snapshot

    try:
        run_snapshot(destination, db, settings=_settings(ctx))
    except UsageError as error:
        _fail(str(error), code=1)
    _console().print(f"Copie écrite : {destination}", markup=False)


OUTCOMES_FR = {"loaded": "chargé", "unchanged": "inchangé"}


@app.command()
def loads(ctx: typer.Context, db: DbOption = None) -> None:
    """Lister les chargements, du plus récent au plus ancien (numéros pour --as-of)."""
    from rich.table import Table

    from pipeline.core.errors import UsageError
    from pipeline.orchestrate.steps import list_loads

    try:
        rows = list_loads(db, settings=_settings(ctx))
    except UsageError as error:
        _fail(str(error), code=1)
    if not rows:
        _console().print("Aucun chargement enregistré dans cet entrepôt.")
        return
    table = Table(
        "N°",
        "Date",
        "Dossier",
        "Profil",
        "Lues",
        "Ajoutées",
        "Remplacées",
        "Inchangées",
        "Résultat",
    )
    for row in rows:
        table.add_row(
            str(row["load_id"]),
            row["started_at"].strftime("%d/%m/%Y %H:%M"),
            row["extract_dir"] or "",
            row["profile"] or "",
            *(
                f"{row[key] or 0:,}".replace(",", "\u202f")
                for key in ("rows_read", "rows_inserted", "rows_replaced", "rows_unchanged")
            ),
            OUTCOMES_FR.get(row["outcome"], row["outcome"] or ""),
        )
    _console().print(table)


HARLEQUIN_HINT = (
    "harlequin (l'éditeur SQL en terminal) n'est pas installé. Installez-le avec "
    "« pip install '.\\[sql]' » depuis le dossier de csi, ou posez une requête : "
    'csi sql "select count(*) from billing_lines".'
)


@app.command()
def sql(
    ctx: typer.Context,
    query: Annotated[
        str | None,
        typer.Argument(
            help="Requête SQL à exécuter (lecture seule). Sans requête : ouvre harlequin, "
            "l'éditeur SQL en terminal, s'il est installé.",
            show_default=False,
            metavar="REQUÊTE",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Interroger l'entrepôt en SQL, en lecture seule (pas besoin du client DuckDB)."""
    from pipeline.core.errors import UsageError

    settings = _settings(ctx)
    if query is None:
        _open_harlequin(settings.warehouse(db))
        return
    from pipeline.orchestrate.steps import query as run_query

    try:
        columns, rows, cut = run_query(query, db, settings=settings)
    except UsageError as error:
        _fail(str(error), code=1)
    _print_query_result(columns, rows, cut)


def _print_query_result(columns: list[str], rows: list[tuple], cut: bool) -> None:
    """The rows as a table, figures right-aligned; a statement without rows says so."""
    from rich.table import Table

    from pipeline.orchestrate.steps import SQL_ROWS_SHOWN

    console = _console()
    if not columns:
        console.print("Requête exécutée (aucun résultat à afficher).")
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    shown = f"{len(rows)} ligne{'s' if len(rows) > 1 else ''}"
    if cut:
        shown = f"{SQL_ROWS_SHOWN} premières lignes affichées (ajoutez « limit » ou agrégez)"
    console.print(f"[dim]{shown}.[/]")


def _open_harlequin(path: Path) -> None:
    """Start harlequin read-only on the warehouse, or say how to install it.

    The optional extra `csi[sql]` installs it next to csi: its DuckDB is the one that
    wrote the warehouse, where a DuckDB CLI from elsewhere may not read its storage.
    """
    import shutil
    import subprocess

    if not path.exists():
        _fail(
            f"Entrepôt introuvable : {path}. Chargez d'abord une extraction avec « csi ingest ».",
            code=1,
        )
    # csi's own environment first (its venv's bin may not be on PATH), then PATH.
    beside = shutil.which("harlequin", path=str(Path(sys.executable).parent))
    harlequin = beside or shutil.which("harlequin")
    if harlequin is None:
        _fail(HARLEQUIN_HINT, code=1)
    completed = subprocess.run(  # our own argument list, no shell
        [harlequin, "--adapter", "duckdb", "--read-only", str(path)], check=False
    )
    raise typer.Exit(completed.returncode)


profile_app = typer.Typer(help="Profils d'import : décrire l'export de votre logiciel.")
app.add_typer(profile_app, name="profile")


@profile_app.command("check")
def profile_check(
    extract_dir: Annotated[
        Path, typer.Argument(help="Dossier de l'extraction à examiner.", metavar="DOSSIER")
    ],
    profile: ProfileOption = None,
) -> None:
    """Dire, avant tout chargement, quels fichiers, colonnes et valeurs le profil sait lire.

    Chaque fichier du dossier est listé avec la table dont il suit le motif, ou « ignoré ».
    """
    from pipeline.core.errors import InputError, UsageError
    from pipeline.extract.profile_check import check_extract, list_files
    from pipeline.extract.profiles import load_profile
    from pipeline.orchestrate.steps import check_extract_dir

    try:
        check_extract_dir(extract_dir)
    except UsageError as error:
        _fail(str(error), code=1)
    try:
        profile_def = load_profile(profile)
        listed = list_files(extract_dir, profile_def)
        checks = check_extract(extract_dir, profile_def)
    except InputError as error:
        _console(stderr=True).print(error.describe(), markup=False)
        raise typer.Exit(1) from None
    console = _console()
    _print_file_list(console, extract_dir, listed)
    if not checks:
        _fail(f"Aucun fichier de {extract_dir} ne correspond aux motifs du profil.", code=1)
    for check in checks:
        _print_file_check(console, check)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def _print_file_list(console: Console, extract_dir: Path, listed: list[tuple[str, str]]) -> None:
    """Every file of the extract and what reads it: a table, the register, or nothing."""
    console.print(f"Fichiers de {extract_dir} ({len(listed)}) :", markup=False, soft_wrap=True)
    width = max((len(name) for name, _ in listed), default=0)
    for name, role in listed:
        console.print(f"  {name:<{width}}  → {role}", markup=False, soft_wrap=True)


def _count(number: int, one: str, many: str) -> str:
    """« 0 ligne », « 1 ligne », « 3 499 lignes »: French takes the singular below 2."""
    return f"{number:,}".replace(",", "\u202f") + " " + (one if number < 2 else many)


def _print_file_check(console: Console, check: FileCheck) -> None:
    """What the profile reads in one file: columns, defaults, misses, unknown values."""
    mark = "[green]OK[/]" if check.ok else "[red]À corriger[/]"
    read = "non lu" if check.error and not check.rows else _count(check.rows, "ligne", "lignes")
    console.print(f"\n[bold]{check.file}[/] ({check.table}, {read}) : {mark}")
    if check.error:
        console.print(f"  {check.error}", markup=False)
    for canonical, header in check.mapped.items():
        console.print(f"  {canonical:<24} ← « {header} »", markup=False)
    for text in check.defaulted:
        console.print(f"  {text:<24} (valeur par défaut)", markup=False)
    for text in check.missing:
        console.print(f"  [red]manquante[/] : {text}")
    if check.missing:
        console.print(
            "  En-têtes du fichier : " + ", ".join([*check.mapped.values(), *check.unused_headers]),
            markup=False,
        )
    elif check.unused_headers:
        console.print(f"  En-têtes ignorés : {', '.join(check.unused_headers)}", markup=False)
    for header, values in check.unmapped_values.items():
        console.print(f"  [red]valeurs non prévues[/] dans « {header} » : {', '.join(values)}")


register_app = typer.Typer(
    help="Registre du centre (centre_AAAA.yaml) : préparer le fichier de l'année, le vérifier.",
    no_args_is_help=True,
    subcommand_metavar="COMMANDE [ARGUMENTS]...",
)
app.add_typer(register_app, name="register")


@register_app.command("template")
def register_template(
    ctx: typer.Context,
    centre: Annotated[str, typer.Option("--centre", help="N° FINESS du centre (9 caractères).")],
    year: Annotated[int, typer.Option("--year", help="Année que le registre décrit (AAAA).")],
    db: DbOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Fichier à écrire (défaut : centre_AAAA.yaml dans le dossier courant) ; "
            "un fichier existant n'est jamais remplacé.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Écrire un registre à remplir, chaque rubrique expliquée en commentaire.

    Il reprend le registre de la même année s'il est déjà dans l'entrepôt, sinon celui
    de l'année précédente (sans les dates propres à l'année), et les infirmières vues
    dans la facturation de l'année.
    """
    from pipeline.cli.register_template import write_template
    from pipeline.core.errors import UsageError

    try:
        written = write_template(centre, year, db, out, _settings(ctx))
    except UsageError as error:
        _fail(str(error), code=1)
    console = _console()
    console.print(f"Écrit : {written}", markup=False, soft_wrap=True)
    console.print(
        f"Complétez-le, puis vérifiez-le : csi register check {written}",
        markup=False,
        soft_wrap=True,
    )


@register_app.command("check")
def register_check(
    file: Annotated[
        Path, typer.Argument(help="Registre à vérifier (centre_AAAA.yaml).", metavar="FICHIER")
    ],
) -> None:
    """Vérifier un registre seul, avec les messages du chargement, sans rien charger."""
    from pipeline.cli.register_template import register_summary
    from pipeline.core.errors import InputError
    from schemas.register import load_register

    if file.is_dir():
        _fail(f"{file} est un dossier : donnez le fichier du registre (centre_AAAA.yaml).", code=1)
    if not file.is_file():
        _fail(f"Registre introuvable : {file}", code=1)
    try:
        register = load_register(file)
    except InputError as error:
        _console(stderr=True).print(error.describe(), markup=False)
        _console(stderr=True).print(
            f"Corrigez le fichier, puis vérifiez-le à nouveau : csi register check {file}",
            markup=False,
        )
        raise typer.Exit(1) from None
    console = _console()
    console.print(
        f"Registre conforme : {file} (centre {register.finess}, année {register.year})",
        markup=False,
        soft_wrap=True,
    )
    console.print(register_summary(register), markup=False, soft_wrap=True)


def main(hooks: Hooks | None = None) -> None:
    """`csi`; `hooks`: the test harness's seams (`tests/faulty_csi.py`), none in the product.

    Every interruption ends the same way, in French, with code 130: a Ctrl-C or a SIGTERM
    met in Python (typer turns it into a silent exit 130) or in the middle of a DuckDB
    statement (DuckDB raises its own « Query interrupted »). DuckDB failing on its own
    (out of memory, disk full) is said in French too, with exit 1 (`engine_failure`).
    """
    from pipeline.core.settings import share_cores

    share_cores()
    try:
        app(obj=hooks)
    except KeyboardInterrupt:
        stop_interrupted()
    except SystemExit as done:
        if done.code == INTERRUPTED:
            stop_interrupted()
        raise
    except Exception as error:
        from pipeline.warehouse.database import engine_failure, interrupted

        if interrupted(error):
            stop_interrupted()
        told = engine_failure(error)
        if told is None:
            raise
        _console(stderr=True).print(f"[bold red]Erreur :[/] {told}")
        sys.exit(1)


if __name__ == "__main__":
    main()
