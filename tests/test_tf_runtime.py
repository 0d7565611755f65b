"""Start-up of the engine: TensorFlow loads quietly, without scikit-learn, which stays usable."""
import subprocess
import sys

from conftest import PROJECT_ROOT


def test_tensorflow_loads_without_sklearn_and_sklearn_still_imports_later():
    # Keras imports scikit-learn only for keras.wrappers, 0.5-1.3 s of every command; the
    # engine hides it during that import. Our own linear heads must still get the real one.
    code = (
        "import sys\n"
        "from core.tf_runtime import load_tensorflow\n"
        "tf = load_tensorflow()\n"
        "import keras\n"
        "print('sklearn' in sys.modules, tf.constant(2).numpy() + 1)\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "print(LogisticRegression().fit([[0.0], [1.0]], [0, 1]).predict([[0.9]])[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "3", "1"]
    assert "oneDNN" not in out.stderr and "cuda" not in out.stderr.lower()  # quiet start
