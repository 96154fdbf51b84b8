@echo off
REM Starts the Distribution Backend API on Windows: the office LAN reaches it at http://THIS-PC:8000
REM (0.0.0.0 listens on every network card; allow port 8000 in Windows Firewall for the LAN only).
cd /d "%~dp0"
if not exist .venv\Scripts\python.exe (
    echo Creating .venv, first run only...
    py -3 -m venv .venv || python -m venv .venv || goto :error
    .venv\Scripts\python.exe -m pip install --upgrade pip || goto :error
)
REM A no-op in seconds when nothing changed; picks up a new requirements.txt after an update.
.venv\Scripts\python.exe -m pip install --quiet -r requirements.txt || goto :error
.venv\Scripts\python.exe -c "from database import init_db; init_db()" || goto :error
REM On the first start, makes an admin API key and prints it once.
.venv\Scripts\python.exe manage.py ensure-admin-key || goto :error
.venv\Scripts\python.exe serve.py --host 0.0.0.0 --port 8000
goto :eof
:error
echo Start-up failed; see the message above.
pause
exit /b 1
