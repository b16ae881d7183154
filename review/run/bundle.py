"""The input files a protocol brings with it, found beside it by name (pure but for
looking at the folder).

For ``protocols/NAME.toml``: the PubMed snapshot ``NAME.pubmed.xml``; every other record
file ``NAME.SOURCE.ris`` or ``NAME.SOURCE.nbib`` (``SOURCE`` is the source it is imported
as: a database such as ``embase``, or one of the protocol's ``[[search.other_sources]]``);
the screening decisions ``NAME.screening.csv``; the extraction ``NAME.studies.csv``,
``NAME.cases.csv`` and ``NAME.aggregates.csv``; and the appraisal ``NAME.appraisal.csv``.
A file that is absent is a stage skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RECORD_SUFFIXES = (".ris", ".nbib")
EXTRACTION_FORMS = ("studies", "cases", "aggregates")


@dataclass(frozen=True)
class Bundle:
    """The bundled inputs of one protocol, each None (or empty) when it has none."""

    protocol: Path
    pubmed: Path | None
    sources: tuple[tuple[str, Path], ...]
    screening: Path | None
    extraction: tuple[Path, ...]
    appraisal: Path | None = None

    @classmethod
    def of(cls, protocol: Path) -> Bundle:
        """The files beside ``protocol`` that share its name."""
        stem = protocol.name.removesuffix(".toml")
        folder = protocol.parent

        def found(name: str) -> Path | None:
            path = folder / f"{stem}.{name}"
            return path if path.is_file() else None

        sources = []
        for path in sorted(folder.glob(f"{stem}.*")):
            source = path.name[len(stem) + 1 :]
            for suffix in RECORD_SUFFIXES:
                if source.endswith(suffix) and "." not in source.removesuffix(suffix):
                    sources.append((source.removesuffix(suffix), path))
        extraction = tuple(p for p in (found(f"{f}.csv") for f in EXTRACTION_FORMS) if p)
        return cls(
            protocol,
            found("pubmed.xml"),
            tuple(sources),
            found("screening.csv"),
            extraction,
            found("appraisal.csv"),
        )

    def files(self) -> list[Path]:
        """Every input file, the protocol first."""
        found = [self.protocol, self.pubmed, *(p for _, p in self.sources), self.screening]
        return [p for p in (*found, *self.extraction, self.appraisal) if p is not None]
