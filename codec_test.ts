import assert from "node:assert/strict";
import { fc } from "./_test_helpers.ts";
import { jsonCodec } from "./codec.ts";

Deno.test("jsonCodec round-trips deadline, values and rememberMe", () => {
  const data = {
    deadline: new Date(1_700_000_000_123),
    values: { user: "ada", n: 1.5, list: [1, null, "x"], nested: { ok: true } },
  };
  assert.deepEqual(jsonCodec.decode(jsonCodec.encode(data)), data);
  const remembered = { ...data, rememberMe: true };
  assert.deepEqual(jsonCodec.decode(jsonCodec.encode(remembered)), remembered);
  assert.equal(
    new TextDecoder().decode(
      jsonCodec.encode({ deadline: new Date(5), values: { a: 1 } }),
    ),
    '{"deadline":5,"values":{"a":1}}',
  );
});

Deno.test("jsonCodec.decode() rejects bytes it did not make with a SyntaxError", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  for (
    const [input, reason] of [
      [new Uint8Array([0xff, 0xfe]), /not UTF-8 JSON/],
      [bytes("{not json"), /not UTF-8 JSON/],
      [bytes("null"), /expected an object, found null/],
      [bytes('{"values":{}}'), /deadline must be a number, found undefined/],
      [bytes('{"deadline":1,"values":[]}'), /values must be an object/],
      [bytes('{"deadline":1}'), /values must be an object, found undefined/],
      [bytes('{"deadline":1,"values":{},"rememberMe":1}'), /rememberMe/],
    ] as const
  ) {
    assert.throws(() => jsonCodec.decode(input), {
      name: "SyntaxError",
      message: reason,
    });
  }
});

Deno.test("jsonCodec.check() accepts JSON data and refuses the rest", () => {
  const check = jsonCodec.check!;
  for (
    const ok of [null, true, 0, -1.5, "", "text", [], [1, [2]], {}, {
      a: { b: [{ c: null }] },
    }, JSON.parse('{"__proto__": 1}')]
  ) {
    check(ok);
  }
  const shared = { x: 1 };
  check({ a: shared, b: shared }); // shared is not circular

  for (
    const [bad, message] of [
      [undefined, "Cannot encode undefined as JSON"],
      [NaN, "Cannot encode NaN as JSON"],
      [Infinity, "Cannot encode Infinity as JSON"],
      [10n, "Cannot encode 10 as JSON"],
      [() => 1, "Cannot encode a function as JSON"],
      [Symbol("s"), "Cannot encode a symbol as JSON"],
      [new Date(0), "Cannot encode a Date as JSON"],
      [new Map(), "Cannot encode a Map as JSON"],
      [{ a: [1, { b: new Set() }] }, "Cannot encode a Set at .a[1].b as JSON"],
      [{ a: undefined }, "Cannot encode undefined at .a as JSON"],
      [-0, "Cannot encode -0 as JSON: -0 comes back as 0"],
      [{ a: [-0] }, "Cannot encode -0 at .a[0] as JSON"],
      [
        Object.create(null),
        "Cannot encode an object as JSON: an object without",
      ],
      [new (class List extends Array {})(), "Cannot encode a List as JSON"],
      [[1, , 3], "Cannot encode the array as JSON: it has holes"],
      [Object.assign([1], { extra: 2 }), "Cannot encode the array as JSON"],
      [
        { [Symbol("s")]: 1 },
        "Cannot encode the object as JSON: its symbol keys",
      ],
      [
        Object.defineProperty({}, "hidden", { value: 1 }),
        'Cannot encode "hidden" as JSON: a non-enumerable property',
      ],
      [
        {
          get computed() {
            return 1;
          },
        },
        'Cannot encode "computed" as JSON: a getter or setter',
      ],
    ] as const
  ) {
    assert.throws(() => check(bad), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.ok(error.message.startsWith(message), error.message);
      return true;
    });
  }
  const circular: Record<string, unknown> = {};
  circular.self = { again: circular };
  assert.throws(() => check(circular), {
    name: "TypeError",
    message: /circular structure: the value at .self.again refers back/,
  });
});

Deno.test("jsonCodec.check() accepts exactly the values that come back equal", () => {
  const check = jsonCodec.check!;
  const roundTrip = (value: unknown) =>
    jsonCodec.decode(
      jsonCodec.encode({ deadline: new Date(0), values: { value } }),
    ).values.value;
  fc.assert(
    fc.property(
      fc.anything({
        withNullPrototype: true,
        withSparseArray: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withTypedArray: true,
        withObjectString: true,
        withBigInt: true,
      }),
      (value) => {
        let accepted = true;
        try {
          check(value);
        } catch (error) {
          assert.ok(error instanceof TypeError);
          accepted = false;
        }
        if (accepted) assert.deepStrictEqual(roundTrip(value), value);
      },
    ),
    { numRuns: 2_000 },
  );
});
