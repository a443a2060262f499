import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

/**
 * Descriptions of a settings schema, read from the JSDoc comments of its source:
 * one node per key, with the keys below it. `[]` holds the item of an array,
 * `*` the value of a record.
 */
export interface DocNode {
  description?: string;
  children: Map<string, DocNode>;
  /** Messages of `.refine(check, message)` calls on the schema as a whole (top level only). */
  checks?: string[];
}

const emptyNode = (): DocNode => ({ children: new Map() });

function mergeNodes(a: DocNode | undefined, b: DocNode | undefined): DocNode | undefined {
  if (!a) return b;
  if (!b) return a;
  const children = new Map(a.children);
  for (const [k, v] of b.children) children.set(k, mergeNodes(children.get(k), v) ?? emptyNode());
  const description = a.description ?? b.description;
  return { ...(description ? { description } : {}), children };
}

function withDescription(node: DocNode, description: string | undefined): DocNode {
  return description ? { ...node, description } : node;
}

/** The JSDoc text of a declaration or property on one line, or undefined. */
function jsDocText(node: ts.Node): string | undefined {
  const texts = ts
    .getJSDocCommentsAndTags(node)
    .filter(ts.isJSDoc)
    .map((d) => ts.getTextOfJSDocComment(d.comment))
    .filter((t): t is string => typeof t === 'string' && t.trim().length > 0);
  // The parser attaches a JSDoc only after a line break; `{ /** ... */ key: ... }` on one line is read here.
  if (texts.length === 0 && (ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node))) {
    const text = node.getSourceFile().text;
    // Comments on the line of the previous token count as its trailing comments.
    const ranges = [...(ts.getTrailingCommentRanges(text, node.getFullStart()) ?? []), ...(ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [])];
    for (const r of ranges) {
      const comment = text.slice(r.pos, r.end);
      if (r.kind === ts.SyntaxKind.MultiLineCommentTrivia && comment.startsWith('/**') && comment !== '/**/') {
        texts.push(
          comment
            .slice(3, -2)
            .split('\n')
            .map((line) => line.replace(/^\s*\*?\s?/, ''))
            .join(' '),
        );
      }
    }
  }
  const last = texts[texts.length - 1];
  return last === undefined || last.trim() === '' ? undefined : last.replace(/\s+/g, ' ').trim();
}

/** The first sentence of a schema's own JSDoc: what a section is, without notes for developers. */
function firstSentence(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = /^(.*?[.:])(\s|$)/.exec(text);
  return (m?.[1] ?? text).replace(/:$/, '.');
}

type Declaration = { node: ts.VariableDeclaration | ts.FunctionDeclaration; file: string };

/**
 * Reads the descriptions of zod settings schemas from TypeScript sources with the
 * compiler API: property assignments in `z.object({...})` calls, following
 * identifiers to their declarations (imports of `@weir/*` libs included), spreads
 * (`...schema.shape`, `...helper()`), `.extend({...})`, arrays, records and unions.
 */
export class SchemaDocReader {
  private readonly files = new Map<string, ts.SourceFile>();
  private readonly paths: Record<string, string[]>;

  constructor(private readonly root: string) {
    const base = ts.readConfigFile(join(root, 'tsconfig.base.json'), (p) => readFileSync(p, 'utf8'));
    const options = (base.config as { compilerOptions?: { paths?: Record<string, string[]> } } | undefined)?.compilerOptions;
    this.paths = options?.paths ?? {};
  }

  /** The descriptions of the schema exported (or declared) as `name` in `file`. */
  read(file: string, name: string): DocNode {
    const decl = this.findDeclaration(resolve(file), name, new Set());
    if (!decl) throw new Error(`${name} is not declared in ${file}`);
    const node = this.evaluateDeclaration(decl, new Set()) ?? emptyNode();
    const checks = ts.isVariableDeclaration(decl.node) && decl.node.initializer ? refineMessages(decl.node.initializer) : [];
    return checks.length > 0 ? { ...node, checks } : node;
  }

  /**
   * Where `file` loads its settings — `loadConfig(<schema>, ...)` or `runService({ schema: <schema>, ... })` —
   * the schema's name and the file that declares it.
   */
  loadedSchema(file: string): { name: string; file: string } | undefined {
    const source = this.source(resolve(file));
    let found: string | undefined;
    const visit = (node: ts.Node): void => {
      if (found) return;
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'loadConfig') {
        const arg = node.arguments[0];
        if (arg && ts.isIdentifier(arg)) found = arg.text;
      }
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'runService') {
        const arg = node.arguments[0];
        const schema = arg && ts.isObjectLiteralExpression(arg) ? arg.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === 'schema') : undefined;
        if (schema && ts.isPropertyAssignment(schema) && ts.isIdentifier(schema.initializer)) found = schema.initializer.text;
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    if (!found) return undefined;
    const decl = this.findDeclaration(resolve(file), found, new Set());
    return decl ? { name: found, file: decl.file } : undefined;
  }

  private source(file: string): ts.SourceFile {
    let sf = this.files.get(file);
    if (!sf) {
      sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
      this.files.set(file, sf);
    }
    return sf;
  }

  private resolveModule(from: string, specifier: string): string | undefined {
    const candidates: string[] = [];
    const mapped = this.paths[specifier];
    if (mapped) candidates.push(...mapped.map((p) => join(this.root, p)));
    else if (specifier.startsWith('.')) {
      const base = resolve(dirname(from), specifier);
      candidates.push(`${base}.ts`, join(base, 'index.ts'));
    }
    return candidates.find((c) => existsSync(c));
  }

  private findDeclaration(file: string, name: string, seen: Set<string>): Declaration | undefined {
    const key = `${file}#${name}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const sf = this.source(file);
    for (const statement of sf.statements) {
      if (ts.isVariableStatement(statement)) {
        for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name) && d.name.text === name) return { node: d, file };
      } else if (ts.isFunctionDeclaration(statement) && statement.name?.text === name) {
        return { node: statement, file };
      } else if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
        const bindings = statement.importClause?.namedBindings;
        if (!bindings || !ts.isNamedImports(bindings)) continue;
        const element = bindings.elements.find((e) => e.name.text === name);
        if (!element) continue;
        const target = this.resolveModule(file, statement.moduleSpecifier.text);
        return target ? this.findDeclaration(target, (element.propertyName ?? element.name).text, seen) : undefined;
      } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
        const target = this.resolveModule(file, statement.moduleSpecifier.text);
        if (!target) continue;
        if (!statement.exportClause) {
          const found = this.findDeclaration(target, name, seen);
          if (found) return found;
        } else if (ts.isNamedExports(statement.exportClause)) {
          const element = statement.exportClause.elements.find((e) => e.name.text === name);
          if (element) return this.findDeclaration(target, (element.propertyName ?? element.name).text, seen);
        }
      }
    }
    return undefined;
  }

  private evaluateDeclaration(decl: Declaration, stack: Set<string>): DocNode | undefined {
    if (!ts.isVariableDeclaration(decl.node) || !decl.node.initializer) return undefined;
    const key = `${decl.file}#${decl.node.name.getText()}`;
    if (stack.has(key)) return undefined;
    const node = this.evaluate(decl.node.initializer, decl.file, new Set([...stack, key]));
    return node && !node.description ? withDescription(node, firstSentence(jsDocText(decl.node))) : node;
  }

  private evaluate(expr: ts.Expression, file: string, stack: Set<string>): DocNode | undefined {
    if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr)) return this.evaluate(expr.expression, file, stack);
    if (ts.isIdentifier(expr)) {
      const decl = this.findDeclaration(file, expr.text, new Set());
      return decl ? this.evaluateDeclaration(decl, stack) : undefined;
    }
    if (ts.isObjectLiteralExpression(expr)) return this.evaluateObject(expr, file, stack);
    if (ts.isPropertyAccessExpression(expr)) {
      const target = this.evaluate(expr.expression, file, stack);
      if (!target) return undefined;
      return expr.name.text === 'shape' ? { children: target.children } : target.children.get(expr.name.text);
    }
    if (ts.isCallExpression(expr)) return this.evaluateCall(expr, file, stack);
    return undefined;
  }

  private evaluateObject(expr: ts.ObjectLiteralExpression, file: string, stack: Set<string>): DocNode {
    const node = emptyNode();
    for (const prop of expr.properties) {
      if (ts.isPropertyAssignment(prop) || ts.isShorthandPropertyAssignment(prop)) {
        const name = prop.name.getText().replace(/^['"]|['"]$/g, '');
        const value = ts.isPropertyAssignment(prop) ? this.evaluate(prop.initializer, file, stack) : this.evaluate(prop.name, file, stack);
        node.children.set(name, withDescription(value ?? emptyNode(), jsDocText(prop)));
      } else if (ts.isSpreadAssignment(prop)) {
        const spread = this.evaluate(prop.expression, file, stack);
        if (spread) for (const [k, v] of spread.children) node.children.set(k, v);
      }
    }
    return node;
  }

  private evaluateCall(expr: ts.CallExpression, file: string, stack: Set<string>): DocNode | undefined {
    const args = expr.arguments;
    const callee = expr.expression;
    if (ts.isPropertyAccessExpression(callee)) {
      const method = callee.name.text;
      const receiver = callee.expression.getText();
      if (receiver === 'z') {
        switch (method) {
          case 'object':
          case 'strictObject':
          case 'looseObject':
            return args[0] ? this.evaluate(args[0], file, stack) : emptyNode();
          case 'array':
            return { children: new Map([['[]', (args[0] && this.evaluate(args[0], file, stack)) ?? emptyNode()]]) };
          case 'record':
            return { children: new Map([['*', (args[1] && this.evaluate(args[1], file, stack)) ?? emptyNode()]]) };
          case 'union':
          case 'discriminatedUnion': {
            const options = args[args.length - 1];
            if (!options || !ts.isArrayLiteralExpression(options)) return undefined;
            return options.elements.reduce<DocNode | undefined>((acc, el) => mergeNodes(acc, ts.isSpreadElement(el) ? undefined : this.evaluate(el, file, stack)), undefined);
          }
          case 'preprocess':
            return args[1] ? this.evaluate(args[1], file, stack) : undefined;
          default:
            return undefined;
        }
      }
      if (receiver === 'fields') {
        return method === 'list' && args[0] ? { children: new Map([['[]', this.evaluate(args[0], file, stack) ?? emptyNode()]]) } : emptyNode();
      }
      const base = this.evaluate(callee.expression, file, stack);
      if ((method === 'extend' || method === 'merge') && args[0]) {
        const extra = this.evaluate(args[0], file, stack);
        if (!base) return extra;
        const children = new Map(base.children);
        if (extra) for (const [k, v] of extra.children) children.set(k, v);
        return { ...(base.description ? { description: base.description } : {}), children };
      }
      return base;
    }
    if (ts.isIdentifier(callee)) {
      // A local helper (`entitySet(...)`, `listener(5514)`, `jsonFromString(schema)`): its returned
      // object literal when it builds one, else the schema it wraps (its first schema argument).
      const decl = this.findDeclaration(file, callee.text, new Set());
      let body: ts.Expression | undefined;
      if (decl && ts.isVariableDeclaration(decl.node) && decl.node.initializer && ts.isArrowFunction(decl.node.initializer) && !ts.isBlock(decl.node.initializer.body)) {
        body = decl.node.initializer.body;
      }
      const fromBody = body && decl ? this.evaluate(body, decl.file, stack) : undefined;
      if (fromBody && fromBody.children.size > 0) return fromBody;
      for (const arg of args) {
        const node = this.evaluate(arg, file, stack);
        if (node) return node;
      }
      return fromBody;
    }
    return undefined;
  }
}

/** The messages of the `.refine(...)` calls in a schema expression's own method chain. */
function refineMessages(expr: ts.Expression): string[] {
  const out: string[] = [];
  let e: ts.Expression = expr;
  while (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression)) {
    const message = e.arguments[1];
    if (e.expression.name.text === 'refine' && message) {
      if (ts.isStringLiteralLike(message)) out.unshift(message.text);
      else if (ts.isObjectLiteralExpression(message)) {
        for (const p of message.properties) {
          if (ts.isPropertyAssignment(p) && p.name.getText() === 'message' && ts.isStringLiteralLike(p.initializer)) out.unshift(p.initializer.text);
        }
      }
    }
    e = e.expression.expression;
  }
  return out;
}
