"""The `nego` command line.

This package is the application shell: it builds `Settings` once, opens the
stores and calls into `copilot` (the core) and `evals`. Heavy libraries are
imported inside commands so `nego --help` stays fast.
"""

from __future__ import annotations

import sys
import tempfile
import traceback

import typer

# `nego --help` lists the commands in the order they register: keep this order.
# isort: off
from nego import index_cli as _index_cli  # noqa: F401  (registers `nego index`, `search`, `eval retrieval`)
from nego import skills_cli as _skills_cli  # noqa: F401  (registers `nego ask|explain|risks|plan|fit|objection|brief`)
from nego import chat_cli as _chat_cli  # noqa: F401  (registers `nego chat`)
from nego import deal_cli as _deal_cli  # noqa: F401  (registers `nego deal check`)
from nego import eval_cli as _eval_cli  # noqa: F401  (registers `nego eval run|compare|…`)
from nego import meeting_cli as _meeting_cli  # noqa: F401  (registers `nego roleplay`, `recap`, `deal versions…`)
from nego import negotiate_cli as _negotiate_cli  # noqa: F401  (registers `nego negotiate`)
from nego import ui_cli as _ui_cli  # noqa: F401  (registers `nego ui`)
from nego import doctor_cli as _doctor_cli  # noqa: F401  (registers `nego doctor`)

# isort: on
from nego.base import app

__all__ = ["app", "main"]


def _crash_report(exc: BaseException) -> str:
    """Write the traceback of an unexpected error to a file; the user sees one line naming that file."""
    with tempfile.NamedTemporaryFile("w", prefix="nego-error-", suffix=".log", delete=False) as out:
        traceback.print_exception(exc, file=out)
    return out.name


def main() -> None:
    """The `nego` entry point: every failure ends in one `error: ...` line on stderr, never a traceback.

    Usage errors (a bad option value, an unknown option) exit 2, like typer's own handling but
    on one line; an unexpected error exits 1 and leaves its traceback in a log file for a bug report.
    """
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    from copilot.inputs import EmptyInputError

    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        help_text = exc.format_message().strip()  # typer's rich mode has already printed the help
        if help_text:
            typer.echo(help_text, err=True)
        sys.exit(2)
    except UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        typer.secho(f"error: {' '.join(exc.format_message().split())}{hint}", fg=typer.colors.RED, err=True)
        sys.exit(exc.exit_code)
    except ClickException as exc:
        typer.secho(f"error: {' '.join(exc.format_message().split())}", fg=typer.colors.RED, err=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except EmptyInputError as exc:  # e.g. a question of control characters only: a usage error
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except Exception as exc:  # the last line of defence: no traceback reaches a user
        log = _crash_report(exc)
        message = " ".join(str(exc).split())[:300]
        typer.secho(
            f"error: unexpected {type(exc).__name__}: {message} (details in {log}; please report it)",
            fg=typer.colors.RED,
            err=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
