import subprocess
import sys

from mimea_core.cli import build_parser, main


def test_help_lists_commands(capsys):
    parser = build_parser()
    text = parser.format_help()
    assert "COMMAND" in text


def test_unknown_command_exits_nonzero():
    proc = subprocess.run([sys.executable, "-m", "mimea_core", "no-such-command"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr


def test_main_is_callable():
    assert callable(main)


def test_closed_pipe_gives_no_traceback(sample_data_dir):
    proc = subprocess.run(
        f"{sys.executable} -m mimea_core info {sample_data_dir / 'fb15k-db15k-small'} | head -1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip()
