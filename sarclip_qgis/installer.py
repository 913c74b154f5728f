"""Install the engine's missing Python packages in the background (a QgsTask running pip)."""

from __future__ import annotations

import subprocess

from qgis.core import QgsApplication, QgsTask

NO_CONSOLE = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: pip runs without a console window popping up


class InstallTask(QgsTask):
    """Runs one install (deps.install_args, without a shell) without freezing QGIS; keeps its output."""

    def __init__(self, args: list[str]):
        super().__init__("SARCLIP: installing dependencies", QgsTask.CanCancel)
        self.args = args
        self.output = ""
        self._process: subprocess.Popen | None = None

    def run(self) -> bool:
        try:
            self._process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                             creationflags=NO_CONSOLE)
        except OSError as exc:
            self.output = f"{self.args[0]}: {exc}"
            return False
        lines = []
        for line in self._process.stdout:
            lines.append(line)
            if self.isCanceled():
                self._process.terminate()
        self._process.wait()
        self.output = "".join(lines[-20:])
        return self._process.returncode == 0 and not self.isCanceled()


def start_install(args: list[str], on_done) -> InstallTask:
    """Queue the install; on_done(ok, output) is called on the main thread when pip exits."""
    task = InstallTask(args)
    task.taskCompleted.connect(lambda: on_done(True, task.output))
    task.taskTerminated.connect(lambda: on_done(False, task.output))
    QgsApplication.taskManager().addTask(task)
    return task
