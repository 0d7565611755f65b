"""Start-up of the engine: TensorFlow loads quietly, without scikit-learn, which stays usable."""
from conftest import run_python


def test_tensorflow_loads_without_sklearn_and_sklearn_still_imports_later():
    # Keras imports scikit-learn only for keras.wrappers, 0.5-1.3 s of every command; the
    # engine hides it during that import. Our own linear heads must still get the real one.
    code = (
        "import sys\n"
        "from core.util.tf_runtime import load_tensorflow\n"
        "tf = load_tensorflow()\n"
        "import keras\n"
        "print('sklearn' in sys.modules, tf.constant(2).numpy() + 1)\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "print(LogisticRegression().fit([[0.0], [1.0]], [0, 1]).predict([[0.9]])[0])\n"
    )
    out = run_python(code)
    assert out.stdout.split() == ["False", "3", "1"]
    assert "oneDNN" not in out.stderr and "cuda" not in out.stderr.lower()  # quiet start


def test_loading_tensorflow_on_a_worker_thread_leaves_the_main_thread_running():
    # The GUI loads TensorFlow on a worker thread. Its two big libraries used to be dlopened
    # under the GIL (a 450-650 ms freeze of the window) and garbage collection passes over
    # the import's objects added 70-180 ms pauses; now both are avoided.
    # That the main thread keeps running is tested here; how long its worst pause is, is a
    # measurement: a row of `python -m bench` (gui_responsiveness, TensorFlow warm-up).
    code = (
        "import threading, time\n"
        "from core.util.tf_runtime import load_tensorflow\n"
        "done = threading.Event()\n"
        "threading.Thread(target=lambda: (load_tensorflow(), done.set())).start()\n"
        "worst, last, turns = 0.0, time.perf_counter(), 0\n"
        "while not done.is_set():\n"
        "    time.sleep(0.005)\n"
        "    now = time.perf_counter()\n"
        "    worst, last, turns = max(worst, (now - last) * 1000 - 5), now, turns + 1\n"
        "print(round(worst, 1), turns)\n"
    )
    worst_ms, turns = run_python(code).stdout.split()[-2:]
    print(f"worst main-thread stall while TensorFlow loads: {worst_ms} ms, {turns} turns")
    assert int(turns) >= 20
