"""How `helpdesk --help` reads: placeholders in words (`EMAIL`, `NUMBER`), flags without values,
no Python types, and usage mistakes as one line.

Typer 0.29 shows each parameter's annotation as its placeholder (`<bool>`, `<list[str]>`,
`{name}`, `<int range> [0<=x<=1000000000]`). Instead of repeating a metavar on every option of
every command, the assembled command tree is polished once, here, before it runs: every command
module (including ones written later) reads the same way, and tests walk the same tree.
"""

from __future__ import annotations

from difflib import get_close_matches

from typer._click import Command
from typer._click.decorators import help_option
from typer._click.exceptions import BadParameter, NoSuchOption, UsageError
from typer.core import TyperArgument, TyperGroup, TyperOption

# Options most commands share get the same words everywhere, even where a module gave none.
STANDARD_HELP = {
    "--json": "Print JSON instead of a table.",
    "--yes": "Do not ask for confirmation (for scripts).",
}
# A suggestion must be close: difflib's default (0.6) offers --locale for --frobnicate.
SUGGESTION_CUTOFF = 0.75


class WordArgument(TyperArgument):
    """An argument shown as NAME, [NAME] or [NAME]..., never as {name} with its type."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if self.nargs != 1:
            return f"[{name}]..."
        return name if self.required else f"[{name}]"

    def display_type_rich(self, ctx) -> str | None:
        return None

    def _get_number_range_help_str(self) -> str | None:
        return None  # the range is checked, and said in the help text where it matters


class WordOption(TyperOption):
    """An option followed by its metavar, or by nothing when it is a flag."""

    def display_type_rich(self, ctx) -> str | None:
        return None if self.is_flag else self.metavar

    def _get_number_range_help_str(self) -> str | None:
        return None


def _metavar(option: TyperOption) -> str:
    """`--monthly-fee` takes a FEE, `--add-email` an EMAIL; a number is a NUMBER."""
    if option.type_descriptor.annotation is int:
        return "NUMBER"
    longest = max(option.opts, key=len).lstrip("-")
    return longest.rsplit("-", 1)[-1].upper()


def _polish_param(param) -> None:
    if isinstance(param, TyperArgument):
        param.__class__ = WordArgument
        if param.metavar is None:
            param.metavar = param.name.upper()
    elif isinstance(param, TyperOption):
        param.__class__ = WordOption
        if param.metavar is None and not param.is_flag:
            param.metavar = _metavar(param)
        if not param.help:
            param.help = next((STANDARD_HELP[o] for o in param.opts if o in STANDARD_HELP), None)


def _polish_help_option(command: Command) -> None:
    """--help is made when first asked for; make it now (click caches it there) so it is a flag too."""
    if command.add_help_option and command._help_option is None:
        help_option(["--help"])(command)
        command._help_option = command.params.pop()
    if command._help_option is not None:
        _polish_param(command._help_option)


def polish(command: Command) -> Command:
    """Give every parameter of the tree its words; returns the command for chaining."""
    for param in command.params:
        _polish_param(param)
    _polish_help_option(command)
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            polish(sub)
    return command


def walk(command: Command, path: tuple[str, ...] = ()):
    """Every (path, command) of the tree, the root first."""
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))


def usage_error_line(exc: UsageError) -> str:
    """A usage mistake as one line: what is wrong, a close suggestion, where help is."""
    if isinstance(exc, NoSuchOption):
        known = [o for p in exc.ctx.command.params for o in (*p.opts, *p.secondary_opts)] if exc.ctx else []
        close = get_close_matches(exc.option_name, known, n=3, cutoff=SUGGESTION_CUTOFF)
        message = f"no such option {exc.option_name}" + (f" (did you mean {' or '.join(close)}?)" if close else "")
    else:
        message = exc.format_message()
        if isinstance(exc, BadParameter):
            # pydantic's words for a failed int(); a person typed a number that is none
            message = message.replace("Input should be a valid integer, unable to parse string as an integer",
                                      "expected a whole number")
    where = exc.ctx.command_path if exc.ctx else "helpdesk"  # already starts with "helpdesk"
    return f"{where}: {message} (see '{where} --help')"
