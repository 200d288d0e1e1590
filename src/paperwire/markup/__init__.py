"""Text to safe HTML, with no knowledge of pages or storage: comment Markdown (sanitised,
with math and @mentions) and LaTeX math as MathML. The web pages, the Atom feeds and the
comment service all use it, so it sits below them (a pure leaf of the layers)."""
