"""How things are drawn, shared by the DXF, the SVG previews and the PDF: numbers and lengths in the job's
units and locale (`units`), the SVG path writer (`svgpath`) and the colours and line styles of each edge kind
(`palette`). What is drawn lives with each output (engine.dxf, engine.svg, engine.pdf)."""
