"""weir_selection stands alone: both the SDK and the control plane import it, so it may import
neither of them, nor anything outside the standard library."""

import subprocess
import sys


def test_importing_weir_selection_loads_only_the_standard_library():
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import weir_selection\n"
        "loaded = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(loaded - set(sys.stdlib_module_names) - {'weir_selection'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
