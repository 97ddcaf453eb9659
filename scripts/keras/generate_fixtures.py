"""Real Keras files for Losscape's loader tests, saved by Keras 3.15 itself (tensorflow-cpu 2.21).

For each model: <name>.keras (Keras 3 zip) and <name>.h5 (legacy HDF5), <name>.npz holding the
data (x, y), and <name>.expected.json with Keras's own predictions (model.predict, float32) and
its loss (model.evaluate, the model's compiled loss, mean over the samples). The models are
trained for a few steps so BatchNorm moving statistics and weights are not at their initial
values. Run by scripts/setup-keras.sh; usage: python generate_fixtures.py OUT_DIR
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402


def data_classes(rng, n, shape, classes):
    x = rng.normal(size=(n, *shape)).astype("float32")
    y = rng.integers(0, classes, size=n).astype("int32")
    return x, y


def dense_model(rng):
    """Sequential: Dense(8, tanh) → Dense(3, softmax), sparse categorical cross-entropy."""
    x, y = data_classes(rng, 64, (4,), 3)
    m = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="tanh"), layers.Dense(3, activation="softmax")])
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return m, x, y


def conv_model(rng):
    """Conv2D(4, 3×3, relu) → BatchNormalization → MaxPooling2D → Flatten → Dense(3, softmax)."""
    x, y = data_classes(rng, 48, (8, 8, 1), 3)
    m = keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(4, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])
    m.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    return m, x, y


def embedding_model(rng):
    """Embedding(20, 4) → Flatten → Dense(1, sigmoid), binary cross-entropy on integer tokens."""
    x = rng.integers(0, 20, size=(64, 6)).astype("int32")
    y = (x.sum(axis=1) % 2).astype("float32")[:, None]
    m = keras.Sequential([keras.Input((6,), dtype="int32"), layers.Embedding(20, 4), layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    m.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    return m, x, y


def functional_model(rng):
    """Functional: two Dense branches added, concatenated with the input, Dense(2) regression (MSE)."""
    x = rng.normal(size=(64, 5)).astype("float32")
    y = np.stack([x[:, 0] - x[:, 1], np.tanh(x[:, 2])], axis=1).astype("float32")
    inp = keras.Input((5,), name="features")
    a = layers.Dense(4, activation="relu")(inp)
    b = layers.Dense(4, activation="tanh")(inp)
    s = layers.Add()([a, b])
    c = layers.Concatenate()([s, inp])
    out = layers.Dense(2)(c)
    m = keras.Model(inp, out, name="branches")
    m.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return m, x, y


MODELS = {"dense": dense_model, "conv": conv_model, "embedding": embedding_model, "functional": functional_model}


def main(out):
    keras.utils.set_random_seed(1234)
    os.makedirs(out, exist_ok=True)
    index = {"keras": keras.__version__, "models": {}}
    for i, (name, make) in enumerate(MODELS.items()):
        rng = np.random.default_rng(100 + i)
        m, x, y = make(rng)
        m.fit(x, y, epochs=2, batch_size=16, verbose=0)
        pred = m.predict(x, batch_size=len(x), verbose=0).astype("float32")
        loss = float(m.evaluate(x, y, batch_size=len(x), verbose=0))
        m.save(os.path.join(out, f"{name}.keras"))
        m.save(os.path.join(out, f"{name}.h5"))
        np.savez(os.path.join(out, f"{name}.npz"), x=x, y=y)
        expected = {
            "loss": loss,
            "lossName": m.loss if isinstance(m.loss, str) else type(m.loss).__name__,
            "predictions": pred.reshape(len(x), -1).tolist(),
            "outputShape": list(pred.shape),
            "parameters": int(m.count_params()),
            "layers": [type(l).__name__ for l in m.layers],
        }
        with open(os.path.join(out, f"{name}.expected.json"), "w") as f:
            json.dump(expected, f)
        index["models"][name] = {"parameters": expected["parameters"], "layers": expected["layers"]}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
