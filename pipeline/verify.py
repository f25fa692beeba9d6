"""Compare two reports figure by figure, for `csi verify`."""

from __future__ import annotations

from typing import Any

# Fields that legitimately differ between two generations of the same report.
VOLATILE = {("meta", "generated_at"), ("meta", "package_version")}


def differences(expected: Any, actual: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Every path whose value differs, written `section.key[index]: expected → actual`."""
    if path in VOLATILE:
        return []
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual or key not in expected:
                found.append(
                    f"{_dotted((*path, str(key)))}: {expected.get(key)!r} → {actual.get(key)!r}"
                )
            else:
                found += differences(expected[key], actual[key], (*path, str(key)))
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        found = []
        for index, (a, b) in enumerate(zip(expected, actual, strict=True)):
            found += differences(a, b, (*path, f"[{index}]"))
        return found
    return [] if expected == actual else [f"{_dotted(path)}: {expected!r} → {actual!r}"]


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path).replace(".[", "[")
