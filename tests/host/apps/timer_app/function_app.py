"""Timer test app: an hourly monitored timer (schedule from a setting) and a run-on-startup timer."""

import azure.functions as func

from tests.host.apps.outbox import record

app = func.FunctionApp()


@app.timer_trigger(arg_name="timer", schedule="%HOURLY_SCHEDULE%", use_monitor=True)
def hourly(timer: func.TimerRequest) -> None:
    record("hourly", past_due=timer.past_due, status=timer.schedule_status)


@app.timer_trigger(arg_name="timer", schedule="0 0 0 1 1 *", run_on_startup=True, use_monitor=False)
def at_startup(timer: func.TimerRequest) -> None:
    record("at_startup", past_due=timer.past_due)
