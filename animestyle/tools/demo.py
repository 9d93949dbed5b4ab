"""``animestyle demo PATH``: a Gradio page over any model :func:`animestyle.load` reads.

The page only wires widgets to :func:`animestyle.tools.demo_actions.restyle`; what it offers
follows :func:`animestyle.tools.demo_actions.choices` (an artist dropdown, a style-image upload, one toggle
per attribute). Gradio comes with the ``demo`` extra: ``pip install -e ".[demo]"``.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from animestyle.inference import Model, load
from animestyle.tools.demo_actions import KEEP, OFF, ON, choices, restyle

__all__ = ["build_page", "demo"]

_INSTALL = 'the demo page needs Gradio: pip install -e ".[demo]" (or pip install "animestyle[demo]")'


def _gradio() -> Any:
    try:
        import gradio
    except ImportError:
        raise RuntimeError(_INSTALL) from None
    return gradio


def build_page(model: Model, title: str = "animestyle") -> Any:
    """The page for ``model``, a ``gradio.Blocks`` (not launched)."""
    gr = _gradio()
    offered = choices(model)
    lock = threading.Lock()  # one model, one forward at a time: requests queue, none is lost
    results = Path(tempfile.mkdtemp(prefix="animestyle-demo-"))

    with gr.Blocks(title=title) as page:
        gr.Markdown(f"## {title}\n{model.method}, {model.image_size} px. " + _what(offered))
        with gr.Row():
            with gr.Column():
                picture = gr.File(label="Illustration (any size)", file_types=["image"], elem_id="picture")
                faces = gr.Checkbox(label="faces: find the faces, restyle them, paste them back", value=False)
                artist = (
                    gr.Dropdown(offered["artists"], value=offered["artists"][0], label="Artist", elem_id="artist")
                    if offered["artists"]
                    else gr.State(None)
                )
                reference = (
                    gr.File(label="Style image", file_types=["image"], elem_id="reference")
                    if offered["reference"]
                    else gr.State(None)
                )
                toggles = [
                    gr.Radio([KEEP, ON, OFF], value=KEEP, label=name, elem_id=f"attribute-{name}")
                    for name in offered["attributes"]
                ]
                run = gr.Button("Restyle", variant="primary", elem_id="run")
            with gr.Column():
                message = gr.Textbox(label="Message", interactive=False, elem_id="message")
                shown_input = gr.Image(label="Input", type="filepath", interactive=False, elem_id="input")
                result = gr.Image(label="Result", type="filepath", interactive=False, elem_id="result")
                download = gr.File(label="Download the result", interactive=False, elem_id="download")
        strip = gr.Image(label="The same content by several artists, or with each attribute flipped", type="filepath")

        def png(picture: Any) -> str | None:
            """A picture as a PNG file of its own. Gradio rewrites the cached file of a PIL output
            in place, so two requests with the same output raced (a client read a file while
            another request rewrote it); a file path is copied into its cache atomically."""
            if picture is None:
                return None
            handle, path = tempfile.mkstemp(suffix=".png", prefix="picture-", dir=results)
            os.close(handle)
            picture.save(path)
            return path

        def act(
            picture_path: str | None, use_faces: bool, chosen: str | None, style: str | None, *states: str
        ) -> tuple[Any, ...]:
            """The button: the page's inputs -> message, input, result, download, strip (PNG paths)."""
            attributes = dict(zip(offered["attributes"], states, strict=True))
            with lock:
                done = restyle(
                    model, picture_path, artist=chosen, reference=style, attributes=attributes, faces=use_faces
                )
            result = png(done.result)
            return done.message, png(done.input), result, result, png(done.strip)

        run.click(
            act,
            inputs=[picture, faces, artist, reference, *toggles],
            outputs=[message, shown_input, result, download, strip],
        )
    return page


def _what(offered: dict[str, Any]) -> str:
    if offered["attributes"]:
        return "Set attributes on or off and press Restyle."
    if offered["artists"]:
        return f"Pick one of its {len(offered['artists'])} artists and press Restyle."
    return "Upload a style image and press Restyle."


def demo(path: str, *, host: str = "127.0.0.1", port: int = 7860, device: str | None = None) -> None:
    """Serve a page that restyles uploaded illustrations with the model at ``path``.

    Args:
        path: a checkpoint written by ``animestyle fit`` or a folder written by ``animestyle export``.
        host: the address to listen on (127.0.0.1: this machine only; 0.0.0.0: the network).
        port: the port.
        device: where the model runs (default: CUDA when available).
    """
    _gradio()  # the install hint before the model loads
    model = load(path, device=device)
    page = build_page(model, title=f"animestyle: {Path(path).name}")
    print(f"serving {model.method} from {path} at http://{host}:{port} (Ctrl+C stops)")
    page.queue(default_concurrency_limit=4).launch(server_name=host, server_port=port)
