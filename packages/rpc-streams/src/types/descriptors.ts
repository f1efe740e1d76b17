/**
 * Runtime type descriptors: plain, immutable objects with a `kind` that describe the values a
 * service exchanges. They validate values (see `validate.ts`), have a canonical form and a
 * fingerprint (see `canonical.ts`), and TypeScript infers the static type from them ({@link Infer}).
 * The IDL generator emits the same descriptors, so hand-written and generated services are alike.
 * @module
 */

/** Integer kinds; all are JavaScript numbers within the safe-integer range. */
export type IntKind = 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64'

/** Floating-point kinds (JavaScript numbers; float32 only documents intent, it is not rounded). */
export type FloatKind = 'float32' | 'float64'

/** Inclusive ranges of the integer kinds (64-bit kinds are limited to the safe-integer range). */
export const INT_RANGES: Readonly<Record<IntKind, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  uint64: [0, Number.MAX_SAFE_INTEGER],
}

/** Key of the phantom property that carries a descriptor's static type (exists only in types). */
export declare const phantom: unique symbol

/** Common shape of every descriptor; `T` is the TypeScript type it stands for (phantom). */
export interface TypeBase<T> {
  readonly kind: string
  /** Free text for generated docs; not part of the canonical form. */
  readonly doc?: string
  /** Phantom field carrying the static type (boxed, so `undefined` in T survives inference); never present at runtime. */
  readonly [phantom]?: { readonly type: T }
}

/** A string. */
export interface StringType extends TypeBase<string> {
  readonly kind: 'string'
}
/** A boolean. */
export interface BoolType extends TypeBase<boolean> {
  readonly kind: 'bool'
}
/** An integer number of the given width. */
export interface IntType extends TypeBase<number> {
  readonly kind: IntKind
}
/** A floating-point number. */
export interface FloatType extends TypeBase<number> {
  readonly kind: FloatKind
}
/** A bigint of any size. */
export interface BigIntType extends TypeBase<bigint> {
  readonly kind: 'bigint'
}
/** Bytes: a Uint8Array (Buffer is one). */
export interface BinaryType extends TypeBase<Uint8Array> {
  readonly kind: 'binary'
}
/** A point in time: a Date. */
export interface TimestampType extends TypeBase<Date> {
  readonly kind: 'timestamp'
}
/** Anything at all (not checked). */
export interface AnyType extends TypeBase<unknown> {
  readonly kind: 'any'
}
/** No value: `undefined` (or `null` from other languages). The result type of methods that return nothing. */
export interface VoidType extends TypeBase<void> {
  readonly kind: 'void'
}
/** Exactly one string, number or boolean value. */
export interface LiteralType<V extends string | number | boolean> extends TypeBase<V> {
  readonly kind: 'literal'
  readonly value: V
}
/** One of a fixed set of strings. `name` is informational (not part of the canonical form). */
export interface EnumType<V extends string> extends TypeBase<V> {
  readonly kind: 'enum'
  readonly values: readonly V[]
  readonly name?: string
}
/** The inner type, or absent (`undefined`; `null` is accepted from other languages). */
export interface OptionalType<T> extends TypeBase<T | undefined> {
  readonly kind: 'optional'
  readonly inner: Type<T>
}
/** The inner type, or `null`. */
export interface NullableType<T> extends TypeBase<T | null> {
  readonly kind: 'nullable'
  readonly inner: Type<T>
}
/** An array of one item type. */
export interface ArrayType<T> extends TypeBase<T[]> {
  readonly kind: 'array'
  readonly items: Type<T>
}
/** A JavaScript Map (kept by the msgpack codec; use {@link RecordType} with the JSON codec). */
export interface MapType<K, V> extends TypeBase<Map<K, V>> {
  readonly kind: 'map'
  readonly key: Type<K>
  readonly value: Type<V>
}
/** A plain object with string keys and one value type. */
export interface RecordType<V> extends TypeBase<Record<string, V>> {
  readonly kind: 'record'
  readonly value: Type<V>
}
/** One of several types; a value matches the first variant that validates it. */
export interface UnionType<T> extends TypeBase<T> {
  readonly kind: 'union'
  readonly variants: readonly Type<unknown>[]
}

/** Field descriptors of an object or model, by field name. Field order is kept (it is the positional order). */
export type Fields = { readonly [name: string]: Type<unknown> }

/** A plain object with known fields. Unknown fields are allowed and passed through (forward compatibility). */
export interface ObjectType<F extends Fields = Fields> extends TypeBase<InferFields<F>> {
  readonly kind: 'object'
  readonly fields: F
}
/** A named object type (a model). Models can be referenced by name with {@link RefType}, also recursively. */
export interface ModelType<F extends Fields = Fields, T = InferFields<F>> extends TypeBase<T> {
  readonly kind: 'model'
  readonly name: string
  readonly fields: F
}
/** A reference to a model by name, resolved through the service's models (allows recursion). */
export interface RefType<T> extends TypeBase<T> {
  readonly kind: 'ref'
  readonly name: string
}

/** Any descriptor whose values have the static type `T`. */
export type Type<T = unknown> = TypeBase<T>

/** The closed set of descriptors, for code that switches on `kind`. */
export type Descriptor =
  | StringType
  | BoolType
  | IntType
  | FloatType
  | BigIntType
  | BinaryType
  | TimestampType
  | AnyType
  | VoidType
  | LiteralType<string | number | boolean>
  | EnumType<string>
  | OptionalType<unknown>
  | NullableType<unknown>
  | ArrayType<unknown>
  | MapType<unknown, unknown>
  | RecordType<unknown>
  | UnionType<unknown>
  | ObjectType
  | ModelType
  | RefType<unknown>

/** Views any descriptor as the closed union (descriptors are only ever built by {@link t}). */
export const asDescriptor = (type: Type): Descriptor => type as Descriptor

/** The TypeScript type a descriptor stands for. */
export type Infer<D> = D extends { readonly [phantom]?: { readonly type: infer T } } ? T : never

type OptionalKeys<F extends Fields> = {
  [K in keyof F]: F[K] extends OptionalType<unknown> ? K : never
}[keyof F]
type RequiredKeys<F extends Fields> = Exclude<keyof F, OptionalKeys<F>>
type Flatten<T> = { [K in keyof T]: T[K] } & {}

/** The object type described by a fields record: optional descriptors become optional properties. */
export type InferFields<F extends Fields> = Flatten<
  { -readonly [K in RequiredKeys<F>]: Infer<F[K]> } & { -readonly [K in OptionalKeys<F>]?: Infer<F[K]> }
>

type Doc = { doc?: string }
const withDoc = <D extends object>(d: D, o: Doc | undefined): D =>
  Object.freeze(o?.doc === undefined ? d : { ...d, doc: o.doc })

const int =
  (kind: IntKind) =>
  (o?: Doc): IntType =>
    withDoc({ kind }, o)
const float =
  (kind: FloatKind) =>
  (o?: Doc): FloatType =>
    withDoc({ kind }, o)

/**
 * Builders of type descriptors. Every builder takes an optional `{ doc }` last.
 * @example
 * const Student = t.model('Student', { id: t.string(), age: t.uint8(), tags: t.array(t.string()) })
 * type Student = Infer<typeof Student>
 */
export const t = {
  /** A string. */
  string: (o?: Doc): StringType => withDoc({ kind: 'string' }, o),
  /** A boolean. */
  bool: (o?: Doc): BoolType => withDoc({ kind: 'bool' }, o),
  /** Alias of {@link t.bool}. */
  boolean: (o?: Doc): BoolType => withDoc({ kind: 'bool' }, o),
  int8: int('int8'),
  int16: int('int16'),
  int32: int('int32'),
  /** A 64-bit integer, limited to JavaScript's safe-integer range (use {@link t.bigint} beyond). */
  int64: int('int64'),
  uint8: int('uint8'),
  uint16: int('uint16'),
  uint32: int('uint32'),
  /** An unsigned 64-bit integer, limited to the safe-integer range. */
  uint64: int('uint64'),
  float32: float('float32'),
  float64: float('float64'),
  /** Alias of {@link t.float64}. */
  number: float('float64'),
  /** A bigint. */
  bigint: (o?: Doc): BigIntType => withDoc({ kind: 'bigint' }, o),
  /** Bytes (Uint8Array). */
  binary: (o?: Doc): BinaryType => withDoc({ kind: 'binary' }, o),
  /** A Date. */
  timestamp: (o?: Doc): TimestampType => withDoc({ kind: 'timestamp' }, o),
  /** Anything (not validated). */
  any: (o?: Doc): AnyType => withDoc({ kind: 'any' }, o),
  /** No value (for methods that return nothing). */
  void: (o?: Doc): VoidType => withDoc({ kind: 'void' }, o),
  /** Exactly `value`. */
  literal: <const V extends string | number | boolean>(value: V, o?: Doc): LiteralType<V> =>
    withDoc({ kind: 'literal', value }, o),
  /** One of `values`; `name` is informational. */
  enum: <const V extends string>(values: readonly V[], o?: Doc & { name?: string }): EnumType<V> =>
    withDoc(
      o?.name === undefined
        ? { kind: 'enum', values: Object.freeze([...values]) }
        : { kind: 'enum', values: Object.freeze([...values]), name: o.name },
      o,
    ),
  /** `inner` or absent; in an object the field becomes optional. */
  optional: <T>(inner: Type<T>, o?: Doc): OptionalType<T> => withDoc({ kind: 'optional', inner }, o),
  /** `inner` or null. */
  nullable: <T>(inner: Type<T>, o?: Doc): NullableType<T> => withDoc({ kind: 'nullable', inner }, o),
  /** An array of `items`. */
  array: <T>(items: Type<T>, o?: Doc): ArrayType<T> => withDoc({ kind: 'array', items }, o),
  /** A Map from `key` to `value` (msgpack codec). */
  map: <K, V>(key: Type<K>, value: Type<V>, o?: Doc): MapType<K, V> =>
    withDoc({ kind: 'map', key, value }, o),
  /** A plain object with string keys and `value` values (works with the JSON codec too). */
  record: <V>(value: Type<V>, o?: Doc): RecordType<V> => withDoc({ kind: 'record', value }, o),
  /** One of `variants`. */
  union: <const V extends readonly Type<unknown>[]>(variants: V, o?: Doc): UnionType<Infer<V[number]>> =>
    withDoc({ kind: 'union', variants: Object.freeze([...variants]) }, o),
  /** An object with known `fields`. */
  object: <const F extends Fields>(fields: F, o?: Doc): ObjectType<F> =>
    withDoc({ kind: 'object', fields: Object.freeze({ ...fields }) }, o),
  /**
   * A named object type. For recursive models, give the static type explicitly and refer to the
   * model by name: `const Tree: ModelType<TreeFields, Tree> = t.model('Tree', { kids: t.array(t.ref<Tree>('Tree')) })`.
   */
  model: <const F extends Fields, T = InferFields<F>>(name: string, fields: F, o?: Doc): ModelType<F, T> =>
    withDoc({ kind: 'model', name, fields: Object.freeze({ ...fields }) }, o),
  /** A model referenced by name (resolved through the service's models); `T` is its static type. */
  ref: <T = unknown>(name: string, o?: Doc): RefType<T> => withDoc({ kind: 'ref', name }, o),
} as const

/** True for descriptors whose values are objects with fields (object and model). */
export function isObjectLike(type: Type): type is ObjectType | ModelType {
  return type.kind === 'object' || type.kind === 'model'
}

/** True for the integer kinds. */
export function isIntKind(kind: string): kind is IntKind {
  return kind in INT_RANGES
}
