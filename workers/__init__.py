# Before any module here imports PyMuPDF: common's guard keeps its unused parts unloaded.
import common  # noqa: F401
