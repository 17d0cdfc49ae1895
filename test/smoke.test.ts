import test from "ava"; test("tsx works", t => { const x: number = 1; t.is(x, 1); });
