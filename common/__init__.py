import sys

# PyMuPDF 2.0 imports its layout analyser (loading an ONNX model) and pymupdf4llm whenever
# they are installed, in every process; Invex reads text and words only. A None entry
# makes their imports fail, which PyMuPDF's own try/except takes as "not installed".
for _unused in ("pymupdf.layout", "pymupdf4llm"):
    sys.modules.setdefault(_unused, None)  # type: ignore[arg-type]
