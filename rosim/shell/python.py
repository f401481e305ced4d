"""``python3``: run Python code inside the container, as the interpreter would.

``python3 -c CODE`` and ``python3 FILE [ARGS]`` execute the code with the
container's file system, after what ``import site`` would run (``.pth``
import lines and ``sitecustomize`` in site-packages; ``-S``/``-I`` skip
it); ``print`` goes to the command's standard output and
an uncaught exception prints a traceback and exits with status 1, like
CPython. ``sys.exit(n)`` and ``os._exit(n)`` end the program with status
``n``, ``os.abort()`` with 134, a fatal signal it sends itself with
``128 + signal`` (:mod:`rosim.runtime.process`); ``atexit`` handlers run
when it ends normally. ``sys.argv`` is set for the duration of the run.
"""

from __future__ import annotations

import contextlib
import io
import sys
import traceback

from rosim.runtime.patching import process_logging
from rosim.runtime.process import ProcessExit, process, status_of
from rosim.shell.interp import Proc, program

__all__: list[str] = []


class _Stream(io.TextIOBase):
    def __init__(self, write) -> None:
        self._write = write

    def write(self, text: str) -> int:
        self._write(text)
        return len(text)

    def writable(self) -> bool:
        return True


SITE_DIRS = ("/usr/local/lib/python3.11/site-packages", "/usr/lib/python3.6/site-packages",
             "/usr/lib64/python3.6/site-packages", "/usr/lib/python3/dist-packages")


def _site(proc: Proc) -> None:
    """What ``import site`` does at start-up: ``.pth`` import lines, sitecustomize.

    As in CPython, a failing hook prints a short message and start-up goes on.
    """
    import os

    dirs = [d for d in SITE_DIRS if os.path.isdir(d)]
    for directory in dirs:
        for name in sorted(os.listdir(directory)):
            if not name.endswith(".pth"):
                continue
            path = os.path.join(directory, name)
            with open(path) as f:
                for line in f:
                    if line.startswith(("import ", "import\t")):
                        try:
                            exec(line, {"__builtins__": __builtins__})  # noqa: S102
                        except Exception as exc:  # noqa: BLE001
                            proc.err(f"Error processing line of {path}:\n  {exc!r}\n")
    for directory in dirs:
        path = os.path.join(directory, "sitecustomize.py")
        if os.path.isfile(path):
            with open(path) as f:
                source = f.read()
            try:
                exec(compile(source, path, "exec"),  # noqa: S102
                     {"__name__": "sitecustomize", "__builtins__": __builtins__})
            except Exception as exc:  # noqa: BLE001
                proc.err("Error in sitecustomize; set PYTHONVERBOSE for traceback:\n"
                         f"{type(exc).__name__}: {exc}\n")
            break


def _os_environ():  # noqa: ANN202 - os._Environ
    import os

    return os.environ


@program("python3")
def _python3(proc: Proc) -> int:
    args = proc.argv[1:]
    no_site = False
    while args and args[0] in ("-S", "-I", "-s", "-E", "-u", "-B"):
        no_site = no_site or args[0] in ("-S", "-I")
        args = args[1:]
    if args[:1] == ["-c"] and len(args) >= 2:
        source, filename, argv = args[1], "<string>", ["-c", *args[2:]]
    elif args and not args[0].startswith("-"):
        filename = args[0]
        try:
            with open(filename) as f:
                source = f.read()
        except OSError as exc:
            proc.err(f"{proc.name}: can't open file '{filename}': [Errno {exc.errno}] "
                     f"{exc.strerror}\n")
            return 2
        argv = args
    elif args[:1] == ["--version"] or args[:1] == ["-V"]:
        import os

        proc.out("Python 3.6.6\n" if os.path.isdir("/usr/lib/python3.6") else "Python 3.11.7\n")
        return 0
    else:
        proc.err("usage: python3 [-c cmd | file] [arg] ...\n")
        return 2
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        proc.err("".join(traceback.format_exception_only(exc)))
        return 1
    namespace = {"__name__": "__main__", "__file__": filename, "__builtins__": __builtins__}
    saved_argv = sys.argv
    sys.argv = argv
    environ = _os_environ()
    saved_env = dict(environ)
    # The program sees the container's environment, not the notebook's.
    environ.clear()
    environ.update(proc.env)
    try:
        with contextlib.redirect_stdout(_Stream(proc.out)), \
                contextlib.redirect_stderr(_Stream(proc.err)), process_logging(), \
                process() as state:
            try:
                if not no_site:
                    _site(proc)
                exec(code, namespace)  # noqa: S102
            except SystemExit:
                state.run_atexit()
                raise
            state.run_atexit()
    except ProcessExit as ended:
        # os._exit, os.abort, a fatal signal to itself: no atexit, no traceback.
        return ended.status
    except SystemExit as done:
        code_ = done.code
        if isinstance(code_, str):
            proc.err(code_ + "\n")
            return 1
        return status_of(done)
    except KeyboardInterrupt:
        proc.err("Traceback (most recent call last):\nKeyboardInterrupt\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - printed like the interpreter does
        # lookup_lines=False: linecache would read a host file of that name.
        frames = [traceback.FrameSummary(f.filename, f.lineno, f.name, line="")
                  for f in traceback.StackSummary.extract(
                      traceback.walk_tb(exc.__traceback__), lookup_lines=False)
                  if f.filename == filename]
        proc.err("Traceback (most recent call last):\n"
                 + "".join(traceback.format_list(frames))
                 + "".join(traceback.format_exception_only(exc)))
        return 1
    finally:
        sys.argv = saved_argv
        environ.clear()
        environ.update(saved_env)
    return 0
