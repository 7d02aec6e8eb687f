"""Keras' text helpers: ``text_to_word_sequence`` and ``Tokenizer`` (same filters, ordering and
out-of-vocabulary rules, so vocabularies match Keras'), saved and loaded as JSON."""

from __future__ import annotations

import json
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from zoo.errors import ArgumentError, DataError, OptionError

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(
    text: str, filters: str = FILTERS, lower: bool = True, split: str = " "
) -> list[str]:
    """Lower-case, replace every character of ``filters`` by ``split``, split, and drop empty words."""
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in text.split(split) if w]


class Tokenizer:
    """Maps words to integer ids by frequency: the most frequent word is 1 (0 is kept for padding).

    ``num_words`` keeps only ids below it when converting (the index itself holds every word);
    ``oov_token`` gets id 1 and stands for unknown or dropped words. ``char_level=True`` tokenises
    characters.
    """

    def __init__(
        self,
        num_words: int | None = None,
        filters: str = FILTERS,
        lower: bool = True,
        split: str = " ",
        char_level: bool = False,
        oov_token: str | None = None,
    ) -> None:
        self.num_words = num_words
        self.filters, self.lower, self.split, self.char_level = filters, lower, split, char_level
        self.oov_token = oov_token
        self.word_counts: OrderedDict[str, int] = OrderedDict()
        self.word_docs: defaultdict[str, int] = defaultdict(int)
        self.index_docs: defaultdict[int, int] = defaultdict(int)
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}
        self.document_count = 0

    def _words(self, text: str | Sequence[str]) -> list[str]:
        if self.char_level or not isinstance(text, str):
            if self.lower:
                return [t.lower() for t in text] if not isinstance(text, str) else list(text.lower())
            return list(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable[str | Sequence[str]]) -> None:
        """Count words over ``texts`` (strings, or lists of words) and rebuild ``word_index``."""
        if isinstance(texts, str):
            raise ArgumentError("fit_on_texts expects a list of texts, got one string; wrap it in a list.")
        for text in texts:
            self.document_count += 1
            words = self._words(text)
            for w in words:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(words):
                self.word_docs[w] += 1
        ranked = sorted(
            self.word_counts.items(), key=lambda item: item[1], reverse=True
        )  # stable: ties keep first-seen order
        vocabulary = ([self.oov_token] if self.oov_token is not None else []) + [w for w, _ in ranked]
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1), strict=True))
        self.index_word = {i: w for w, i in self.word_index.items()}
        self.index_docs = defaultdict(int, {self.word_index[w]: c for w, c in self.word_docs.items()})

    def fit_on_sequences(self, sequences: Iterable[Sequence[int]]) -> None:
        """Count in how many documents each id occurs (what ``tfidf`` needs) from sequences of ids."""
        for seq in sequences:
            self.document_count += 1
            for i in set(seq):
                self.index_docs[int(i)] += 1

    def _check_fitted(self) -> None:
        if not self.word_index:
            raise DataError("Tokenizer has no vocabulary yet: call fit_on_texts first.")

    def texts_to_sequences(self, texts: Iterable[str | Sequence[str]]) -> list[list[int]]:
        """Each text as a list of ids; unknown words (and ids >= num_words) become the oov id or are dropped."""
        if isinstance(texts, str):
            raise ArgumentError("texts_to_sequences expects a list of texts, got one string; wrap it in a list.")
        self._check_fitted()
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        result = []
        for text in texts:
            ids = []
            for w in self._words(text):
                i = self.word_index.get(w)
                if i is not None and not (self.num_words and i >= self.num_words):
                    ids.append(i)
                elif oov is not None:
                    ids.append(oov)
            result.append(ids)
        return result

    def sequences_to_texts(self, sequences: Iterable[Sequence[int]]) -> list[str]:
        """Ids back to space-joined words (ids outside the vocabulary become the oov token or vanish)."""
        self._check_fitted()
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        texts = []
        for seq in sequences:
            words = []
            for i in seq:
                i = int(i)
                word = self.index_word.get(i)
                if word is not None and not (self.num_words and i >= self.num_words):
                    words.append(word)
                elif oov is not None:
                    words.append(self.index_word[oov])
            texts.append(" ".join(words))
        return texts

    def texts_to_matrix(self, texts: Iterable[str], mode: str = "binary") -> np.ndarray:
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode)

    def sequences_to_matrix(self, sequences: Sequence[Sequence[int]], mode: str = "binary") -> np.ndarray:
        """Bag-of-words rows: ``"binary"``, ``"count"``, ``"freq"`` or ``"tfidf"`` (Keras' formulas)."""
        if mode not in ("binary", "count", "freq", "tfidf"):
            raise OptionError(f"mode must be binary, count, freq or tfidf, got {mode!r}.")
        width = self.num_words or (len(self.word_index) + 1 if self.word_index else 0)
        if not width:
            raise DataError("give num_words or call fit_on_texts first: the matrix width is unknown.")
        if mode == "tfidf" and not self.document_count:
            raise DataError("tfidf needs document counts: call fit_on_texts or fit_on_sequences first.")
        matrix = np.zeros((len(sequences), width))
        for row, seq in enumerate(sequences):
            counts: dict[int, int] = defaultdict(int)
            for j in seq:
                if j < width:
                    counts[j] += 1
            for j, c in counts.items():
                if mode == "count":
                    matrix[row, j] = c
                elif mode == "freq":
                    matrix[row, j] = c / len(seq)
                elif mode == "binary":
                    matrix[row, j] = 1
                else:
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    matrix[row, j] = (1 + np.log(c)) * idf
        return matrix

    def get_config(self) -> dict:
        return {
            "num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
            "char_level": self.char_level, "oov_token": self.oov_token, "document_count": self.document_count,
            "word_counts": list(self.word_counts.items()), "word_docs": dict(self.word_docs),
            "word_index": self.word_index,
        }  # fmt: skip

    def to_json(self, **kwargs) -> str:
        """The whole tokenizer as JSON (no pickle), for saving next to a model."""
        return json.dumps({"class_name": "Tokenizer", "config": self.get_config()}, **kwargs)


def tokenizer_from_json(text: str) -> Tokenizer:
    """Rebuild a ``Tokenizer`` written by ``Tokenizer.to_json``."""
    data = json.loads(text)
    if data.get("class_name") != "Tokenizer":
        raise DataError("not a Tokenizer JSON document (class_name is missing or different).")
    cfg = data["config"]
    tok = Tokenizer(
        cfg["num_words"], cfg["filters"], cfg["lower"], cfg["split"], cfg["char_level"], cfg["oov_token"]
    )
    tok.document_count = cfg["document_count"]
    tok.word_counts = OrderedDict((w, int(c)) for w, c in cfg["word_counts"])
    tok.word_docs = defaultdict(int, cfg["word_docs"])
    tok.word_index = {w: int(i) for w, i in cfg["word_index"].items()}
    tok.index_word = {i: w for w, i in tok.word_index.items()}
    tok.index_docs = defaultdict(
        int, {tok.word_index[w]: c for w, c in tok.word_docs.items() if w in tok.word_index}
    )
    return tok
