/**
 * The syntax tree of a `.unipc` spec. Every node has a discriminating `kind` and a `span` pointing
 * back into the source, so later passes (checker, generator, diagnostics) can name the exact place.
 * @module
 */

/** A location in a source file (1-based line and column, 0-based offset). */
export interface Span {
  readonly line: number
  readonly col: number
  readonly offset: number
  readonly length: number
}

/** Canonical primitive names. Aliases (`float`, `double`, `int`, `bytes`…) are mapped at parse time. */
export const PRIMITIVES = [
  'bool',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'float32',
  'float64',
  'string',
  'binary',
  'timestamp',
  'duration',
] as const

/** One of the canonical primitive type names. */
export type PrimitiveName = (typeof PRIMITIVES)[number]

/** A reference to a type as written in a field, parameter or result. */
export type TypeRef = PrimitiveType | NamedType | ListType | MapType | OptionalType

/** `int32`, `string`, … */
export interface PrimitiveType {
  readonly kind: 'primitive'
  readonly name: PrimitiveName
  readonly span: Span
}

/** A model, enum, union or error declared in this file or an imported one. */
export interface NamedType {
  readonly kind: 'named'
  readonly name: string
  readonly span: Span
}

/** `T[]` (LibMedium's `*T` is the same). */
export interface ListType {
  readonly kind: 'list'
  readonly element: TypeRef
  readonly span: Span
}

/** `map<K, V>`. */
export interface MapType {
  readonly kind: 'map'
  readonly key: TypeRef
  readonly value: TypeRef
  readonly span: Span
}

/** `T?`: the value may be absent. */
export interface OptionalType {
  readonly kind: 'optional'
  readonly inner: TypeRef
  readonly span: Span
}

/** A literal used as a default value. */
export type Literal =
  | { readonly kind: 'int'; readonly value: bigint; readonly span: Span }
  | { readonly kind: 'float'; readonly value: number; readonly span: Span }
  | { readonly kind: 'string'; readonly value: string; readonly span: Span }
  | { readonly kind: 'bool'; readonly value: boolean; readonly span: Span }
  | { readonly kind: 'null'; readonly span: Span }
  /** A duration such as `5s`, stored in milliseconds. */
  | { readonly kind: 'duration'; readonly ms: number; readonly span: Span }
  /** An enum member (`red`) or a qualified one (`Color.red`). */
  | { readonly kind: 'ident'; readonly name: string; readonly span: Span }
  | { readonly kind: 'list'; readonly items: readonly Literal[]; readonly span: Span }
  | {
      readonly kind: 'map'
      readonly entries: readonly { readonly key: Literal; readonly value: Literal }[]
      readonly span: Span
    }

/** An annotation before a declaration or member: `@since(2)`, `@deprecated("why")`, `@timeout(5s)`. */
export type Annotation =
  | { readonly kind: 'since'; readonly version: number; readonly span: Span }
  | { readonly kind: 'deprecated'; readonly reason: string | undefined; readonly span: Span }
  | { readonly kind: 'timeout'; readonly ms: number; readonly span: Span }

/** What every declaration and member carries: doc comment, annotations and the span of its name. */
export interface Decorated {
  /** Text of the `///` comment lines before it, joined with newlines (undefined when none). */
  readonly doc: string | undefined
  readonly annotations: readonly Annotation[]
  readonly name: string
  readonly nameSpan: Span
  readonly span: Span
}

/** A model field or an error field. */
export interface Field extends Decorated {
  readonly kind: 'field'
  readonly type: TypeRef
  readonly default: Literal | undefined
}

/** A method, event or command parameter. */
export interface Param {
  readonly kind: 'param'
  readonly name: string
  readonly nameSpan: Span
  readonly type: TypeRef
  readonly span: Span
}

/** `model Name { fields }`. */
export interface ModelDecl extends Decorated {
  readonly kind: 'model'
  readonly fields: readonly Field[]
}

/** `error Name { fields }` (LibMedium: `exception Name`). */
export interface ErrorDecl extends Decorated {
  readonly kind: 'error'
  readonly fields: readonly Field[]
}

/** One member of an enum. */
export interface EnumMember {
  readonly kind: 'enumMember'
  readonly doc: string | undefined
  readonly name: string
  readonly nameSpan: Span
  readonly span: Span
}

/** `enum Name { a, b, c }`. */
export interface EnumDecl extends Decorated {
  readonly kind: 'enum'
  readonly members: readonly EnumMember[]
}

/** One case of a tagged union: `circle: Circle`. */
export interface UnionVariant {
  readonly kind: 'variant'
  readonly doc: string | undefined
  readonly name: string
  readonly nameSpan: Span
  readonly type: TypeRef
  readonly span: Span
}

/** `union Name { tag: Type, … }`: a value is exactly one of the variants, told apart by its tag. */
export interface UnionDecl extends Decorated {
  readonly kind: 'union'
  readonly variants: readonly UnionVariant[]
}

/** A type declaration. */
export type TypeDecl = ModelDecl | ErrorDecl | EnumDecl | UnionDecl

/** `[stream] method name(params)[: Result] [throws E1, E2]`. */
export interface MethodMember extends Decorated {
  readonly kind: 'method'
  /** Server streaming: the result is a stream of `result` values. */
  readonly stream: boolean
  readonly params: readonly Param[]
  readonly result: TypeRef | undefined
  readonly throws: readonly NamedType[]
}

/** `command name(params)`: one-way to the service's queue. */
export interface CommandMember extends Decorated {
  readonly kind: 'command'
  readonly params: readonly Param[]
}

/** `event name(params)`: published by the service, subscribed to by clients. */
export interface EventMember extends Decorated {
  readonly kind: 'event'
  readonly params: readonly Param[]
}

/** `setting name: T = default`: read/write and watchable. */
export interface SettingMember extends Decorated {
  readonly kind: 'setting'
  readonly type: TypeRef
  readonly default: Literal | undefined
}

/** `status name: T`: published by the service, watchable. */
export interface StatusMember extends Decorated {
  readonly kind: 'status'
  readonly type: TypeRef
}

/** A service member. */
export type Member = MethodMember | CommandMember | EventMember | SettingMember | StatusMember

/** `import "other.unipc"`. */
export interface ImportDecl {
  readonly kind: 'import'
  readonly path: string
  readonly span: Span
}

/** `service Name` (LibMedium: `class Name`). */
export interface ServiceDecl extends Decorated {
  readonly kind: 'service'
}

/** A whole `.unipc` file. */
export interface SpecFile {
  readonly kind: 'file'
  /** Path as given to the parser (used in diagnostics). */
  readonly path: string
  readonly namespace: { readonly name: string; readonly span: Span } | undefined
  readonly service: ServiceDecl | undefined
  readonly version: { readonly value: number; readonly span: Span } | undefined
  /** LibMedium's `socket /path`: where its daemon listened (kept for the generated code's docs and constant). */
  readonly socket: { readonly path: string; readonly span: Span } | undefined
  readonly imports: readonly ImportDecl[]
  readonly types: readonly TypeDecl[]
  readonly members: readonly Member[]
}
