"""Text handling with no knowledge of pages or storage: comment Markdown (sanitised, with
math and @mentions) and LaTeX math as MathML, which the web pages, the Atom feeds and the
comment service use, and the sentence splitter, which search's sentence vectors and the key
sentence both use. It sits below them all (a pure leaf of the layers)."""
