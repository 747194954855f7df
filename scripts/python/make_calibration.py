#!/usr/bin/env python3
"""Calibration and held-out sets for real models, in the pipeline's calibration format.

A set is a folder with one `<input name>.npy` per model input (first axis = samples; float32 for
float inputs, int64 for int64 inputs), named after the ONNX graph's inputs, plus manifest.json
(where every sample came from). There is no labels.npy: the pipeline then scores agreement with
the dense model's top-1 (images) or its outputs (text).

  images  EfficientNet-Lite0-style image batches from scikit-image's sample photos: random
          resized crops (area and aspect jitter) and horizontal flips, resized (PIL bicubic) to
          the model's input size and normalised (x - 127) / 128, NCHW, as
          scripts/fixtures/export_efficientnet.py prepares its reference input.
  text    BERT inputs (input_ids, attention_mask, token_type_ids) from the English quotations of
          Debian's `fortunes` package (/usr/share/games/fortunes), tokenised with the model's
          WordPiece vocab.txt: [CLS] … [SEP], padded with [PAD]=0 to --seq-len.

--split calib|test draws from one of two fixed, disjoint halves of the source: for images, of a
grid over the crop parameters (photo, flip, area, aspect, position); for text, of the pool of
passages (by a hash of the text). The halves do not depend on --seed or --count, so a calib and a
test set never share a crop cell or a passage, whatever their seeds and sizes. --seed picks the
samples within the half; use different seeds for calib and test.

examples:
  make_calibration.py images --model .cache/fixtures/efficientnet_lite0.onnx \\
      --out .cache/fixtures/efficientnet/calib --count 512 --seed 1 --split calib
  make_calibration.py text --model .cache/fixtures/minilm.onnx --vocab DIR/vocab.txt \\
      --out .cache/fixtures/minilm_text/calib --count 512 --seed 1 --split calib \\
      --seq-len 64 --source /usr/share/games/fortunes
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import unicodedata
import zlib
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.dont_write_bytecode = True

import numpy as np  # noqa: E402


class UsageError(Exception):
    """A bad argument or input: printed as one line, exit status 2."""


# ---------------------------------------------------------------------------------------------
# The model's inputs

ONNX_DTYPES = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64}


def model_inputs(path: str) -> list[dict]:
    """The graph inputs that are not initializers: name, numpy dtype, dims (int or symbol name)."""
    import onnx

    if not os.path.isfile(path):
        raise UsageError(f"--model {path}: no such file")
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as e:  # noqa: BLE001
        raise UsageError(f"--model {path}: cannot read it as ONNX: {e}") from e
    initializers = {t.name for t in model.graph.initializer}
    inputs = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        if tensor.elem_type not in ONNX_DTYPES:
            raise UsageError(f"--model {path}: input {value.name} has unsupported element type {tensor.elem_type}")
        dims = [d.dim_param if d.dim_param or not d.HasField("dim_value") else int(d.dim_value) for d in tensor.shape.dim]
        inputs.append({"name": value.name, "dtype": np.dtype(ONNX_DTYPES[tensor.elem_type]), "dims": dims})
    if not inputs:
        raise UsageError(f"--model {path}: the graph has no inputs")
    return inputs


def save_set(out: Path, arrays: dict[str, np.ndarray], manifest: dict) -> None:
    """Writes the arrays and manifest.json into `out` (created; existing .npy files of the same
    names are replaced). Each file goes to NAME.partial first and is then renamed."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = dict(manifest)
    manifest["arrays"] = [{"name": k, "file": f"{k}.npy", "dtype": str(v.dtype), "shape": list(v.shape)}
                          for k, v in arrays.items()]
    for name, array in arrays.items():
        tmp = out / f"{name}.npy.partial"
        with open(tmp, "wb") as f:
            np.save(f, np.asarray(array, order="C"))
        tmp.replace(out / f"{name}.npy")
    tmp = out / "manifest.json.partial"
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(out / "manifest.json")
    for name, array in arrays.items():
        lo, hi = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
        print(f"wrote {out / (name + '.npy')}: {array.dtype} {list(array.shape)}, values in [{lo:.4g}, {hi:.4g}]")
    print(f"wrote {out / 'manifest.json'}")


def check_with_onnxruntime(model: str, arrays: dict[str, np.ndarray], n: int) -> list[np.ndarray]:
    """Runs the model (ONNX Runtime, CPU, one thread) on the first n samples; fails on non-finite
    outputs. Returns the outputs."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    sess = ort.InferenceSession(model, sess_options=so, providers=["CPUExecutionProvider"])
    outputs = sess.run(None, {k: v[:n] for k, v in arrays.items()})
    for meta, value in zip(sess.get_outputs(), outputs):
        finite = bool(np.isfinite(value).all())
        print(f"check: onnxruntime on {min(n, len(next(iter(arrays.values()))))} samples: {meta.name} "
              f"{list(value.shape)}, |max| {float(np.abs(value).max()):.4g}, finite {finite}")
        if not finite:
            raise SystemExit(f"make_calibration: {meta.name} has non-finite values on the first {n} samples")
    return outputs


def in_half(key: str, split: str) -> bool:
    """The fixed calib/test partition: half of all keys by CRC-32 (stable across runs and Pythons)."""
    if split == "all":
        return True
    return (zlib.crc32(key.encode()) & 1) == (0 if split == "calib" else 1)


# ---------------------------------------------------------------------------------------------
# images

# Natural colour photos first, then grayscale photos (converted to RGB, as ImageNet's few
# grayscale images are). Left out: cat (= chelsea), colorwheel/logo (synthetic), lfw_subset
# (25x25), binary/float test patterns and the images scikit-image must download.
PHOTOS = ["astronaut", "chelsea", "coffee", "rocket", "stereo_motorcycle", "hubble_deep_field",
          "immunohistochemistry", "retina", "camera", "coins", "clock", "moon", "grass", "gravel", "brick"]
MEAN, STD = 127.0, 128.0  # as export_efficientnet.py: TF EfficientNet-Lite's MEAN_RGB = 127, STDDEV_RGB = 128
AREA = (0.20, 1.0)  # fraction of the photo's area a crop covers
ASPECT = (3 / 4, 4 / 3)  # crop width / height, log-uniform
GRID = {"area": 8, "aspect": 4, "position": 6}  # cells of the --split partition, per parameter


def load_photo(name: str) -> np.ndarray:
    import skimage.data

    if not hasattr(skimage.data, name):
        raise UsageError(f"--photos: skimage.data has no {name!r}")
    img = getattr(skimage.data, name)()
    if name == "stereo_motorcycle":
        img = img[0]  # (left, right, disparity): the left view
    img = np.asarray(img)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise UsageError(f"--photos: skimage.data.{name} is {img.dtype} {list(img.shape)}, not an 8-bit photo")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return img[:, :, :3]


def draw_crop(rng: np.random.Generator, h: int, w: int):
    """A random resized crop: (left, top, width, height, area fraction, aspect, centre x, centre y);
    torchvision's RandomResizedCrop sampling, with up to 20 tries, then the largest centred crop
    within the aspect range."""
    for _ in range(20):
        area = rng.uniform(*AREA)
        aspect = math.exp(rng.uniform(math.log(ASPECT[0]), math.log(ASPECT[1])))
        cw = int(round(math.sqrt(area * h * w * aspect)))
        ch = int(round(math.sqrt(area * h * w / aspect)))
        if 0 < cw <= w and 0 < ch <= h:
            left = int(rng.integers(0, w - cw + 1))
            top = int(rng.integers(0, h - ch + 1))
            return left, top, cw, ch
    ratio = w / h
    if ratio < ASPECT[0]:
        cw, ch = w, int(round(w / ASPECT[0]))
    elif ratio > ASPECT[1]:
        ch, cw = h, int(round(h * ASPECT[1]))
    else:
        cw, ch = w, h
    return (w - cw) // 2, (h - ch) // 2, cw, ch


def crop_cell(photo: str, flip: bool, left: int, top: int, cw: int, ch: int, h: int, w: int) -> str:
    """The grid cell of a crop's parameters (the key of the --split partition)."""
    area = (cw * ch) / (h * w)
    a = min(GRID["area"] - 1, int((area - AREA[0]) / (AREA[1] - AREA[0]) * GRID["area"])) if area >= AREA[0] else 0
    lr = (math.log(cw / ch) - math.log(ASPECT[0])) / (math.log(ASPECT[1]) - math.log(ASPECT[0]))
    r = min(GRID["aspect"] - 1, max(0, int(lr * GRID["aspect"])))
    x = min(GRID["position"] - 1, int((left + cw / 2) / w * GRID["position"]))
    y = min(GRID["position"] - 1, int((top + ch / 2) / h * GRID["position"]))
    return f"{photo}|{int(flip)}|{a}|{r}|{x}|{y}"


def make_images(a) -> int:
    from PIL import Image

    inputs = model_inputs(a.model)
    if len(inputs) != 1:
        raise UsageError(f"--model {a.model}: images needs a model with one input, it has "
                         f"{', '.join(i['name'] for i in inputs)}")
    (inp,) = inputs
    dims = inp["dims"]
    if len(dims) != 4 or dims[1] != 3:
        raise UsageError(f"--model {a.model}: input {inp['name']} is {dims}, not [batch, 3, height, width]")
    if not np.issubdtype(inp["dtype"], np.floating):
        raise UsageError(f"--model {a.model}: input {inp['name']} is {inp['dtype']}, not floating point")
    size = []
    for axis, d in zip(("height", "width"), dims[2:]):
        if isinstance(d, int) and d > 0:
            if a.size is not None and a.size != d:
                raise UsageError(f"--size {a.size}: the model's input {inp['name']} has a fixed {axis} of {d}")
            size.append(d)
        else:
            size.append(a.size or 224)
    height, width = size

    names = a.photos.split(",") if a.photos else PHOTOS
    photos = {n: load_photo(n) for n in names}
    rng = np.random.default_rng(a.seed)
    # Balanced over photos: every photo gets count // P or count // P + 1 crops, in shuffled order.
    which = [names[i % len(names)] for i in range(a.count)]
    rng.shuffle(which)

    x = np.empty((a.count, 3, height, width), dtype=np.float32)
    records, cells = [], set()
    for i, name in enumerate(which):
        img = photos[name]
        h, w = img.shape[:2]
        for _attempt in range(10000):
            flip = bool(rng.random() < 0.5)
            left, top, cw, ch = draw_crop(rng, h, w)
            cell = crop_cell(name, flip, left, top, cw, ch, h, w)
            if in_half(cell, a.split):
                break
        else:
            raise SystemExit(f"make_calibration: no crop of {name} falls in the {a.split} half of the grid")
        im = Image.fromarray(img).crop((left, top, left + cw, top + ch)).resize((width, height), Image.BICUBIC)
        if flip:
            im = im.transpose(Image.FLIP_LEFT_RIGHT)
        x[i] = ((np.asarray(im, dtype=np.float32) - MEAN) / STD).transpose(2, 0, 1)
        cells.add(cell)
        records.append({"photo": name, "box": [left, top, cw, ch], "flip": flip, "cell": cell})

    arrays = {inp["name"]: x.astype(inp["dtype"], copy=False)}
    per_photo = {n: which.count(n) for n in names}
    print(f"images: {a.count} crops from {len(names)} photos ({', '.join(f'{n} {c}' for n, c in per_photo.items())}); "
          f"{len(cells)} distinct crop cells, split {a.split}, seed {a.seed}")
    manifest = {
        "kind": "images",
        "model": os.path.basename(a.model),
        "input": inp["name"],
        "declared_shape": dims,
        "count": a.count,
        "seed": a.seed,
        "split": a.split,
        "source": "scikit-image sample photos (skimage.data); grayscale ones repeated to RGB; "
                  "stereo_motorcycle = its left view",
        "preprocessing": (f"random resized crop (area {AREA[0]}–{AREA[1]} of the photo, aspect w/h log-uniform "
                          f"in [3/4, 4/3], uniform position), horizontal flip p=0.5, resize to {width}x{height} "
                          f"(PIL bicubic), (x - {MEAN:g}) / {STD:g}, NCHW float32"),
        "split_grid": {**GRID, "key": "photo|flip|area bin|aspect bin|centre x bin|centre y bin",
                       "rule": "crc32(key) & 1: 0 = calib, 1 = test"},
        "photos": per_photo,
        "samples": records,
    }
    save_set(Path(a.out), arrays, manifest)
    if a.check:
        (logits, *_) = check_with_onnxruntime(a.model, arrays, a.check)
        top1 = logits.reshape(len(logits), -1).argmax(axis=1)
        print(f"check: top-1 of the first {len(top1)}: {top1.tolist()} ({len(set(top1.tolist()))} distinct)")
    return 0


# ---------------------------------------------------------------------------------------------
# text

BACKSPACE_RUN = re.compile(r"[^\x08]\x08")
# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before white space.
SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+")
MIN_WORDS = 4


def read_fortunes(source: Path) -> list[tuple[str, str]]:
    """(file name, fortune) for every fortune in a strfile text file or a directory of them
    (.dat index files and *.u8 links are skipped). Fortunes are separated by lines holding '%'."""
    if source.is_dir():
        files = sorted(p for p in source.iterdir()
                       if p.is_file() and p.suffix not in (".dat", ".u8") and not p.name.startswith("."))
    elif source.is_file():
        files = [source]
    else:
        raise UsageError(f"--source {source}: no such file or directory (install Debian's `fortunes`: "
                         "scripts/bootstrap.sh does)")
    out = []
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        for chunk in re.split(r"^%[ \t]*$", text, flags=re.M):
            if chunk.strip():
                out.append((path.name, chunk))
    if not out:
        raise UsageError(f"--source {source}: no fortunes found")
    return out


def clean(fortune: str) -> str | None:
    """Overstrikes removed (x BACKSPACE y → y, as a terminal shows it), white space collapsed;
    None for ASCII art, tables and other text that is mostly not words."""
    while "\x08" in fortune:
        new = BACKSPACE_RUN.sub("", fortune, count=1)
        if new == fortune:
            fortune = fortune.replace("\x08", "")
            break
        fortune = new
    visible = [c for c in fortune if not c.isspace()]
    if not visible:
        return None
    letters = sum(c.isalpha() for c in visible)
    if letters / len(visible) < 0.75:
        return None
    lines = [l for l in fortune.splitlines() if l.strip()]
    if sum(bool(re.search(r"\S {3,}\S", l)) for l in lines) > len(lines) / 2:
        return None  # columns: tables, drawings, verse laid out in columns
    return " ".join(fortune.split())


class Tokenizer:
    """BERT uncased WordPiece over the model's vocab.txt: the `tokenizers` package's
    BertWordPieceTokenizer when installed (the settings of all-MiniLM-L6-v2's tokenizer.json:
    clean text, Chinese characters split, lower case, accents stripped), else the pure-Python
    BERT BasicTokenizer + WordpieceTokenizer below (same algorithm as transformers' BertTokenizer)."""

    def __init__(self, vocab_path: Path, backend: str):
        if not vocab_path.is_file():
            raise UsageError(f"--vocab {vocab_path}: no such file")
        tokens = vocab_path.read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        self.vocab = {t: i for i, t in enumerate(tokens)}
        for special in ("[PAD]", "[UNK]", "[CLS]", "[SEP]"):
            if special not in self.vocab:
                raise UsageError(f"--vocab {vocab_path}: has no {special}; not a BERT WordPiece vocabulary")
        self.pad, self.unk, self.cls, self.sep = (self.vocab[t] for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]"))
        self.backend = backend
        if backend in ("auto", "tokenizers"):
            try:
                from tokenizers import BertWordPieceTokenizer

                self.fast = BertWordPieceTokenizer(str(vocab_path), clean_text=True, handle_chinese_chars=True,
                                                   strip_accents=None, lowercase=True)
                self.backend = "tokenizers"
            except ImportError:
                if backend == "tokenizers":
                    raise UsageError("--tokenizer tokenizers: the `tokenizers` package is not installed") from None
                self.backend = "python"

    def wordpieces(self, text: str) -> list[int]:
        """Token ids of `text` without [CLS]/[SEP]."""
        if self.backend == "tokenizers":
            return self.fast.encode(text, add_special_tokens=False).ids
        ids = []
        for word in self._basic(text):
            ids.extend(self._wordpiece(word))
        return ids

    # --- BERT BasicTokenizer (do_lower_case, tokenize_chinese_chars, strip accents with lower case)
    @staticmethod
    def _is_control(c: str) -> bool:
        return c not in "\t\n\r" and unicodedata.category(c).startswith("C")

    @staticmethod
    def _is_whitespace(c: str) -> bool:
        return c in " \t\n\r" or unicodedata.category(c) == "Zs"

    @staticmethod
    def _is_punctuation(c: str) -> bool:
        cp = ord(c)
        if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
            return True
        return unicodedata.category(c).startswith("P")

    @staticmethod
    def _is_cjk(cp: int) -> bool:
        return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
                or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF
                or 0x2F800 <= cp <= 0x2FA1F)

    def _basic(self, text: str) -> list[str]:
        chars = []
        for c in text:
            cp = ord(c)
            if cp == 0 or cp == 0xFFFD or self._is_control(c):
                continue
            if self._is_whitespace(c):
                chars.append(" ")
            elif self._is_cjk(cp):
                chars.append(f" {c} ")
            else:
                chars.append(c)
        words = []
        for token in "".join(chars).split():
            token = unicodedata.normalize("NFD", token.lower())
            token = "".join(c for c in token if unicodedata.category(c) != "Mn")
            current = ""
            for c in token:
                if self._is_punctuation(c):
                    if current:
                        words.append(current)
                    words.append(c)
                    current = ""
                else:
                    current += c
            if current:
                words.append(current)
        return words

    # --- WordpieceTokenizer: greedy longest match first, '##' continuation, [UNK] for the whole word
    def _wordpiece(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unk]
        ids, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return [self.unk]
            ids.append(found)
            start = end
        return ids


def passages(fortunes: list[tuple[str, str]], tok: Tokenizer, budget: int) -> list[dict]:
    """The pool: each cleaned fortune that fits `budget` word pieces is one passage; longer ones
    are split into sentences, packed greedily into consecutive runs that fit (a single sentence
    longer than the budget is kept, and truncated later). Passages under MIN_WORDS words are
    dropped, duplicates (case-insensitive) kept once."""
    pool, seen = [], set()

    def add(text: str, ids: list[int], origin: str):
        key = text.lower()
        if len(text.split()) < MIN_WORDS or key in seen:
            return
        seen.add(key)
        pool.append({"text": text, "ids": ids, "file": origin})

    for origin, raw in fortunes:
        text = clean(raw)
        if text is None:
            continue
        ids = tok.wordpieces(text)
        if len(ids) <= budget:
            add(text, ids, origin)
            continue
        run, run_ids = [], []
        for sentence in (s for s in SENTENCE_END.split(text) if s.strip()):
            s_ids = tok.wordpieces(sentence)
            if run and len(run_ids) + len(s_ids) > budget:
                add(" ".join(run), run_ids, origin)
                run, run_ids = [], []
            run.append(sentence)
            run_ids = run_ids + s_ids
        if run:
            add(" ".join(run), run_ids, origin)
    return pool


def make_text(a) -> int:
    inputs = model_inputs(a.model)
    known = {"input_ids", "attention_mask", "token_type_ids"}
    unknown = [i["name"] for i in inputs if i["name"] not in known]
    if unknown or not any(i["name"] == "input_ids" for i in inputs):
        raise UsageError(f"--model {a.model}: inputs {[i['name'] for i in inputs]}; text needs input_ids and "
                         f"knows only {sorted(known)}")
    seq_len = a.seq_len
    for i in inputs:
        if len(i["dims"]) != 2:
            raise UsageError(f"--model {a.model}: input {i['name']} is {i['dims']}, not [batch, sequence]")
        if not np.issubdtype(i["dtype"], np.integer):
            raise UsageError(f"--model {a.model}: input {i['name']} is {i['dtype']}, not an integer type")
        d = i["dims"][1]
        if isinstance(d, int) and d > 0:
            if seq_len is not None and seq_len != d:
                raise UsageError(f"--seq-len {seq_len}: the model's input {i['name']} has a fixed sequence length {d}")
            seq_len = d
    if seq_len is None:
        raise UsageError(f"--seq-len is needed: the model's sequence axis is symbolic ({inputs[0]['dims'][1]!r})")
    if seq_len < 3 + MIN_WORDS:
        raise UsageError(f"--seq-len {seq_len}: too short for [CLS] + a passage + [SEP]")

    tok = Tokenizer(Path(a.vocab), a.tokenizer)
    pool = passages(read_fortunes(Path(a.source)), tok, seq_len - 2)
    half = [p for p in pool if in_half(p["text"].lower(), a.split)]
    if len(half) < a.count:
        part = "" if a.split == "all" else f"the {a.split} half of "
        raise UsageError(f"--count {a.count}: {part}{a.source} holds only {len(half)} passages")
    rng = np.random.default_rng(a.seed)
    chosen = [half[j] for j in rng.permutation(len(half))[: a.count]]

    n = a.count
    ids = np.full((n, seq_len), tok.pad, dtype=np.int64)
    mask = np.zeros((n, seq_len), dtype=np.int64)
    truncated = 0
    for row, p in enumerate(chosen):
        pieces = p["ids"][: seq_len - 2]
        truncated += len(p["ids"]) > seq_len - 2
        seq = [tok.cls, *pieces, tok.sep]
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    types = np.zeros((n, seq_len), dtype=np.int64)

    # Cross-check against the model folder's own tokenizer.json, when there is one beside vocab.txt.
    tokenizer_json = Path(a.vocab).with_name("tokenizer.json")
    if tokenizer_json.is_file():
        try:
            from tokenizers import Tokenizer as HFTokenizer
        except ImportError:
            HFTokenizer = None
        if HFTokenizer is not None:
            ref = HFTokenizer.from_file(str(tokenizer_json))
            ref.enable_truncation(seq_len)
            ref.enable_padding(length=seq_len, pad_id=tok.pad)
            for row, p in enumerate(chosen):
                e = ref.encode(p["text"])
                if e.ids != ids[row].tolist() or e.attention_mask != mask[row].tolist():
                    raise SystemExit(f"make_calibration: tokenisation of passage {row} differs from {tokenizer_json}: "
                                     f"{p['text']!r}")
            print(f"check: all {n} rows equal {tokenizer_json.name}'s encoding (truncated and padded to {seq_len})")

    by_name = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    arrays = {i["name"]: by_name[i["name"]].astype(i["dtype"], copy=False) for i in inputs}
    lengths = mask.sum(axis=1)
    unk = int((ids == tok.unk).sum())
    print(f"text: {len(pool)} passages in the pool, {len(half)} in the {a.split} part; took {n} (seed {a.seed}); "
          f"tokens per row {int(lengths.min())}–{int(lengths.max())} (mean {lengths.mean():.1f}), "
          f"{truncated} truncated, {unk} [UNK]; tokenizer {tok.backend}")
    manifest = {
        "kind": "text",
        "model": os.path.basename(a.model),
        "inputs": {i["name"]: i["dims"] for i in inputs},
        "seq_len": seq_len,
        "count": n,
        "seed": a.seed,
        "split": a.split,
        "source": os.path.abspath(a.source),
        "vocab": os.path.abspath(a.vocab),
        "tokenizer": tok.backend,
        "preprocessing": (f"fortunes split at '%' lines; overstrikes removed; mostly-non-letter fortunes (art, "
                          f"tables) dropped; white space collapsed; fortunes over {seq_len - 2} word pieces split "
                          f"into sentences packed greedily up to {seq_len - 2}; passages under {MIN_WORDS} words and "
                          f"duplicates dropped; BERT uncased WordPiece, [CLS] … [SEP], truncated to {seq_len}, "
                          f"padded with [PAD]=0 (attention_mask 0); token_type_ids 0"),
        "split_rule": "crc32(lower-cased passage) & 1: 0 = calib, 1 = test",
        "pool": len(pool),
        "pool_part": len(half),
        "truncated": truncated,
        "samples": [{"file": p["file"], "text": p["text"], "tokens": int(l)} for p, l in zip(chosen, lengths)],
    }
    save_set(Path(a.out), arrays, manifest)
    if a.check:
        check_with_onnxruntime(a.model, arrays, a.check)
    return 0


# ---------------------------------------------------------------------------------------------

def positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"{n} is not positive")
    return n


def non_negative(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{n} is negative")
    return n


def main(argv=None) -> int:
    doc = __doc__.split("\n\n")
    p = argparse.ArgumentParser(prog="make_calibration.py", description=doc[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog="\n\n".join(doc[1:]))
    sub = p.add_subparsers(dest="kind", required=True, metavar="{images,text}")

    def common(q):
        q.add_argument("--model", required=True, help="the ONNX model (input names, dtypes and fixed sizes come from it)")
        q.add_argument("--out", required=True, help="folder to write <input name>.npy and manifest.json into")
        q.add_argument("--count", type=positive, required=True, help="number of samples")
        q.add_argument("--seed", type=non_negative, required=True, help="random seed (numpy default_rng)")
        q.add_argument("--split", choices=("calib", "test", "all"), default="all",
                       help="draw from this fixed half of the source (calib and test never overlap); default all")
        q.add_argument("--check", type=non_negative, default=8, metavar="N",
                       help="run the model in onnxruntime on the first N samples, fail on non-finite outputs "
                            "(default 8; 0 = skip)")

    q = sub.add_parser("images", help="random crops of scikit-image's sample photos (EfficientNet-Lite0)")
    common(q)
    q.add_argument("--size", type=positive, help="height and width when the model's are symbolic (default 224); "
                                                 "must match them when fixed")
    q.add_argument("--photos", help=f"comma-separated skimage.data names (default: {','.join(PHOTOS)})")
    q = sub.add_parser("text", help="BERT inputs from fortunes passages (MiniLM)")
    common(q)
    q.add_argument("--vocab", required=True, help="the model's WordPiece vocab.txt")
    q.add_argument("--seq-len", type=positive, help="padded sequence length; needed when the model's sequence axis "
                                                    "is symbolic, must match it when fixed")
    q.add_argument("--source", required=True, help="a fortune file or a directory of them (/usr/share/games/fortunes)")
    q.add_argument("--tokenizer", choices=("auto", "tokenizers", "python"), default="auto",
                   help="WordPiece implementation: the `tokenizers` package or the built-in one (default: auto)")
    a = p.parse_args(argv)
    try:
        return make_images(a) if a.kind == "images" else make_text(a)
    except UsageError as e:
        p.exit(2, f"make_calibration.py {a.kind}: error: {e}\n")


if __name__ == "__main__":
    sys.exit(main())
