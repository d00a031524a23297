"""Study ``cfg_options`` as ``tools/train.py --cfg-options`` arguments.

A study config gives each candidate's overrides as a python dict; a run
passes them on the command line, where mmengine's ``DictAction`` parses each
``KEY=VALUE`` back. Nested dicts become dotted keys. Every value is checked
to come back unchanged through ``DictAction``'s own parser, so a value the
command line cannot carry (a string with a comma or a space, the string
``'1'``, a list of dicts, ...) is refused when the study config is read, not
silently changed in a run.
"""
from typing import Any, Dict, List

from mmengine.config import DictAction

SCALARS = (bool, int, float, str, type(None))


def flatten_cfg_options(options: Dict[str, Any],
                        prefix: str = '') -> Dict[str, Any]:
    """Nested dicts to dotted keys: ``{'a': {'b': 1}}`` -> ``{'a.b': 1}``.

    Args:
        options (dict): The overrides.
        prefix (str): Key prefix (for the recursion). Defaults to ''.

    Returns:
        dict: Dotted key -> non-dict value, in order.

    Raises:
        TypeError: If ``options`` is not a dict or a key is not a string.
    """
    if not isinstance(options, dict):
        raise TypeError(f'expected a dict of KEY: VALUE overrides, got '
                        f'{type(options).__name__} {options!r}')
    flat: Dict[str, Any] = {}
    for key, value in options.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f'override keys must be non-empty strings, got '
                            f'{key!r}')
        full = f'{prefix}{key}'
        if isinstance(value, dict) and value:
            flat.update(flatten_cfg_options(value, f'{full}.'))
        else:
            flat[full] = value
    return flat


def _encode(value: Any) -> str:
    """The ``DictAction`` text of ``value`` (checked by the caller)."""
    if isinstance(value, (list, tuple)):
        inner = ','.join(_encode(v) for v in value)
        return f'({inner})' if isinstance(value, tuple) else f'[{inner}]'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, SCALARS):
        return 'None' if value is None else str(value)
    raise TypeError(f'cannot pass a {type(value).__name__} on the command '
                    'line')


def encode_cfg_option(key: str, value: Any) -> str:
    """One ``KEY=VALUE`` argument that ``DictAction`` reads back as ``value``.

    Args:
        key (str): Dotted key.
        value: A bool, int, float, str, None, or a list/tuple of those.

    Returns:
        str: ``KEY=VALUE``.

    Raises:
        ValueError: If ``DictAction`` would not give ``value`` back.
    """
    try:
        text = _encode(value)
    except TypeError as err:
        raise ValueError(f'{key}: {err} ({value!r})') from None
    parsed = DictAction._parse_iterable(text)
    if parsed != value or type(parsed) is not type(value):
        raise ValueError(
            f'{key}: {value!r} cannot be passed as --cfg-options (the '
            f'command line would read {text!r} back as {parsed!r}; strings '
            'with commas, spaces or quotes, and strings that look like '
            'numbers, booleans or None, are not representable)')
    return f'{key}={text}'


def check_cfg_options(options: Dict[str, Any]) -> None:
    """Raise if ``options`` cannot be passed as ``--cfg-options``.

    Args:
        options (dict): The overrides.

    Raises:
        TypeError: If it is not a dict with string keys.
        ValueError: If a value would not come back unchanged.
    """
    to_cfg_options_args(options)


def to_cfg_options_args(options: Dict[str, Any]) -> List[str]:
    """The ``--cfg-options`` arguments of ``options``.

    Args:
        options (dict): The overrides (nested dicts allowed).

    Returns:
        list[str]: ``KEY=VALUE`` strings, one per (dotted) key.
    """
    return [
        encode_cfg_option(key, value)
        for key, value in flatten_cfg_options(options).items()
    ]


def is_from_scratch(options: Dict[str, Any]) -> bool:
    """Whether the overrides drop the backbone's ``init_cfg`` on purpose.

    Args:
        options (dict): The overrides.

    Returns:
        bool: True if a key ``backbone.init_cfg`` (at any depth, e.g.
        ``model.backbone.init_cfg`` or ``model.architecture.backbone.
        init_cfg``) is set to None.
    """
    return any(
        (key == 'backbone.init_cfg' or key.endswith('.backbone.init_cfg'))
        and value is None
        for key, value in flatten_cfg_options(options).items())
