"""Records -> captions -> captions.csv (open_clip's format) and records.jsonl, written atomically, plus a summary."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..files import atomic_text
from .boxes import ImageRecord
from .captions import Captioner


@dataclass
class Corpus:
    """Captioned records and the numbers the summary reports."""

    records: list[tuple[ImageRecord, list[str]]] = field(default_factory=list)

    def add(self, record: ImageRecord, captions: list[str]) -> None:
        self.records.append((record, captions))

    def summary(self, problems: list[str]) -> str:
        objects: Counter[str] = Counter()
        captions = [c for _, caps in self.records for c in caps]
        for record, _ in self.records:
            objects.update(record.counts())
        words = {w for c in captions for w in re.findall(r"[a-z0-9][a-z0-9\-/.]*", c.lower())}
        lines = [f"images: {len(self.records)}",
                 "objects per class: " + (", ".join(f"{k} {v}" for k, v in sorted(objects.items())) or "none"),
                 f"captions: {len(captions)}, distinct: {len(set(captions))}, vocabulary: {len(words)} words",
                 f"problems: {len(problems)}"]
        lines += [f"  {p}" for p in problems[:20]]
        if len(problems) > 20:
            lines.append(f"  ... and {len(problems) - 20} more")
        return "\n".join(lines)


def caption_all(records: Iterable[ImageRecord], captioner: Captioner, per_image: int) -> Corpus:
    """Caption every record `per_image` times into a corpus (its records, captions and problems)."""
    corpus = Corpus()
    for record in records:
        corpus.add(record, captioner.captions(record, per_image))
    return corpus


def write_csv(corpus: Corpus, path: Path) -> None:
    """filepath,caption rows, as open_clip's trainer reads them (--csv-separator ,)."""
    with atomic_text(path) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["filepath", "caption"])
        for record, captions in corpus.records:
            writer.writerows([record.filepath, caption] for caption in captions)


def write_jsonl(corpus: Corpus, path: Path) -> None:
    """One JSON object per image: the structured truth and its captions."""
    with atomic_text(path) as handle:
        for record, captions in corpus.records:
            handle.write(json.dumps({
                "filepath": record.filepath, "width": record.width, "height": record.height,
                "boxes": [box.to_dict() for box in record.boxes], "counts": record.counts(),
                "context": record.context, "captions": captions}) + "\n")

