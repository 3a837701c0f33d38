"""An app with a trigger the local host does not run, next to one it does."""

import azure.functions as func

app = func.FunctionApp()


@app.route(route="fine", auth_level=func.AuthLevel.ANONYMOUS)
def fine(req: func.HttpRequest) -> str:
    return "fine"


@app.blob_trigger(arg_name="blob", path="uploads/{name}", connection="AzureWebJobsStorage")
def on_upload(blob: func.InputStream) -> None:
    pass
