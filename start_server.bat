@echo off
REM Starts the Distribution Backend API on Windows. Colleagues open http://THIS-PC:8000/ui/
REM (0.0.0.0 listens on every network card; allow port 8000 in Windows Firewall for the LAN only).
REM Any failure keeps this window open with the reason, so a double-click never hides it.
cd /d "%~dp0"
set PY=
py -3 -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)" >nul 2>&1 && set PY=py -3
if not defined PY python -c "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)" >nul 2>&1 && set PY=python
if not defined PY (
    echo Python 3.11 or newer is needed: install it from python.org, tick "Add python.exe to PATH", then run this again.
    goto :error
)
if not exist .venv\Scripts\python.exe (
    echo Creating .venv, first run only...
    %PY% -m venv .venv || goto :error
    .venv\Scripts\python.exe -m pip install --upgrade pip || goto :error
)
REM A no-op in seconds when nothing changed; picks up a new requirements.txt after an update.
.venv\Scripts\python.exe -m pip install --quiet -r requirements.txt || goto :error
.venv\Scripts\python.exe -c "from database import init_db; init_db()" || goto :error
REM On the first start, makes an admin API key, prints it once and keeps it in first-admin-key.txt.
.venv\Scripts\python.exe manage.py ensure-admin-key || goto :error
echo.
echo The office page: http://%COMPUTERNAME%:8000/ui/  (on this computer: http://127.0.0.1:8000/ui/)
echo Close this window or press Ctrl+C to stop the service.
echo.
.venv\Scripts\python.exe serve.py --host 0.0.0.0 --port 8000 || goto :error
goto :eof
:error
echo.
echo Start-up failed or the service stopped; see the message above.
pause
exit /b 1
